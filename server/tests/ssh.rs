//! Upstreams over ssh, against a real OpenSSH server this test starts on loopback: keys from
//! `~/.ssh` and from ssh-agent, and host keys checked against `~/.ssh/known_hosts` (an unknown
//! or changed host key is refused, with its fingerprint and what to do).
//!
//! Needs Debian's openssh-server and openssh-client (`scripts/setup.sh test` installs them);
//! where `sshd` cannot run, each test says so on stderr and passes without checking anything.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::cli::{text, upstream};

const SSHD: &str = "/usr/sbin/sshd";

/// An sshd on 127.0.0.1 that lets the current user in with `client_key`, and a `HOME` for the
/// client that trusts its host key.
struct Sshd {
    child: Child,
    addr: &'static str,
    port: u16,
    dir: TempDir,
    user: String,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn skip(why: &str) {
    eprintln!("SKIPPED (ssh upstream test): {why}");
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "skillmeat-test",
            "-f",
        ])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen failed");
}

impl Sshd {
    fn start() -> Option<Self> {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on("127.0.0.1", port)
    }

    fn start_on(addr: &'static str, port: u16) -> Option<Self> {
        if !Path::new(SSHD).exists() || Command::new("ssh-keygen").arg("-?").output().is_err() {
            skip("sshd or ssh-keygen is not installed (apt-get install openssh-server)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        keygen(&d.join("host_key"));
        keygen(&d.join("client_key"));
        std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        // sshd wants its privilege-separation folder, which only the service's start creates.
        let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        if root {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress {addr}\nHostKey {d}/host_key\nPidFile {d}/sshd.pid\n\
                 AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel ERROR\n",
                d = d.display()
            ),
        )
        .unwrap();
        let mut child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect((addr, port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                use std::io::Read as _;
                child.stderr.take().unwrap().read_to_string(&mut err).ok();
                skip(&format!("sshd would not start ({status}): {err}"));
                return None;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                skip("sshd did not listen within 10 s");
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Self {
            child,
            addr,
            port,
            dir,
            user,
        })
    }

    fn url(&self, repo: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.display()
        )
    }

    fn host_line(&self) -> String {
        let public = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
        let mut parts = public.split_whitespace();
        let (kind, key) = (parts.next().unwrap(), parts.next().unwrap());
        if self.port == 22 {
            format!("{} {kind} {key}\n", self.addr)
        } else {
            format!("[{}]:{} {kind} {key}\n", self.addr, self.port)
        }
    }

    /// A client `HOME` whose `~/.ssh` holds `known_hosts` and, if `with_key`, the client key.
    fn client_home(&self, known_hosts: &str, with_key: bool) -> TempDir {
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        std::fs::create_dir(&ssh).unwrap();
        std::fs::write(ssh.join("known_hosts"), known_hosts).unwrap();
        if with_key {
            for name in ["client_key", "client_key.pub"] {
                let to = name.replace("client_key", "id_ed25519");
                std::fs::copy(self.dir.path().join(name), ssh.join(to)).unwrap();
            }
        }
        home
    }
}

/// Runs the CLI with `user_home` as `HOME` (where `~/.ssh` is read) and its own SkillMeat home.
fn skillmeat_as(user_home: &Path, env: &[(&str, &Path)], args: &[&str]) -> Output {
    let home: PathBuf = user_home.join("skillmeat");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_skillmeat"));
    cmd.args(["--home", home.to_str().unwrap()])
        .args(args)
        .current_dir(user_home)
        .env_clear()
        .env("HOME", user_home)
        .env("PATH", "/usr/bin:/bin")
        .env("COLUMNS", "100");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn listed(user_home: &Path) -> String {
    let o = skillmeat_as(user_home, &[], &["list", "--json"]);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn an_ssh_upstream_is_added_and_updated_with_the_users_key() {
    let Some(sshd) = Sshd::start() else { return };
    let up = upstream();
    let home = sshd.client_home(&sshd.host_line(), true);
    // As Debian's ssh writes it (HashKnownHosts yes): the host names are hashed.
    let hashed = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(home.path().join(".ssh/known_hosts"))
        .output()
        .unwrap();
    assert!(hashed.status.success());
    let spec = format!("{}#skills/review", sshd.url(up.path()));

    let o = skillmeat_as(home.path(), &[], &["add", &spec]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let copy = home
        .path()
        .join("skillmeat/collections/default/skills/review/SKILL.md");
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "# Review\n");

    // A new upstream commit arrives over ssh too: the upstream check lists refs, update fetches.
    up.write("skills/review/SKILL.md", "# Review\n\nv2\n");
    up.commit("v2");
    let o = skillmeat_as(home.path(), &[], &["drift", "--check-all", "--json"]);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("outdated"), "{}", text(&o));
    let o = skillmeat_as(home.path(), &[], &["update", "--all", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "# Review\n\nv2\n");
}

#[test]
fn keys_in_ssh_agent_are_used() {
    let Some(sshd) = Sshd::start() else { return };
    let up = upstream();
    let home = sshd.client_home(&sshd.host_line(), false);
    let socket = home.path().join("agent.sock");
    let Ok(mut agent) = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(Stdio::null())
        .spawn()
    else {
        skip("ssh-agent is not installed");
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !socket.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let added = Command::new("ssh-add")
        .arg("-q")
        .arg(sshd.dir.path().join("client_key"))
        .env("SSH_AUTH_SOCK", &socket)
        .status()
        .unwrap();
    assert!(added.success(), "ssh-add failed");

    let spec = format!("{}#commands/fix.md", sshd.url(up.path()));
    let o = skillmeat_as(home.path(), &[("SSH_AUTH_SOCK", &socket)], &["add", &spec]);
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(listed(home.path()).contains("command:fix"));
}

#[test]
fn a_host_key_not_in_known_hosts_is_refused_with_its_fingerprint() {
    let Some(sshd) = Sshd::start() else { return };
    let up = upstream();
    let spec = format!("{}#skills/review", sshd.url(up.path()));
    let fingerprint = {
        let o = Command::new("ssh-keygen")
            .args(["-l", "-E", "sha256", "-f"])
            .arg(sshd.dir.path().join("host_key.pub"))
            .output()
            .unwrap();
        let line = String::from_utf8(o.stdout).unwrap();
        line.split_whitespace().nth(1).unwrap().to_owned()
    };

    // Unknown host, and a host recorded with another key (as after a man in the middle).
    let other = tempfile::tempdir().unwrap();
    keygen(&other.path().join("k"));
    let other_key = std::fs::read_to_string(other.path().join("k.pub")).unwrap();
    let mut parts = other_key.split_whitespace();
    let changed = format!(
        "[127.0.0.1]:{} {} {}\n",
        sshd.port,
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    for known_hosts in [String::new(), changed] {
        let home = sshd.client_home(&known_hosts, true);
        let o = skillmeat_as(home.path(), &[], &["add", &spec]);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(out.contains("not in ~/.ssh/known_hosts"), "{out}");
        assert!(out.contains(&fingerprint), "{fingerprint} in {out}");
        assert!(
            out.contains(&format!("ssh -p {} 127.0.0.1", sshd.port)),
            "{out}"
        );
        assert!(
            !home
                .path()
                .join("skillmeat/collections/default/skills/review")
                .exists()
        );
        assert!(!listed(home.path()).contains("skill:review"));
    }
}

#[test]
fn a_refused_key_is_an_error_that_says_which_keys_were_tried() {
    let Some(sshd) = Sshd::start() else { return };
    let up = upstream();
    let home = sshd.client_home(&sshd.host_line(), false);
    // A key the server does not know, named by SKILLMEAT_SSH_KEY.
    let stranger = home.path().join("stranger");
    keygen(&stranger);
    let spec = format!("{}#skills/review", sshd.url(up.path()));
    let o = skillmeat_as(
        home.path(),
        &[("SKILLMEAT_SSH_KEY", &stranger)],
        &["add", &spec],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("tried {}", stranger.display())),
        "{out}"
    );
    assert!(out.contains("SKILLMEAT_SSH_KEY"), "{out}");

    // No key at all.
    let o = skillmeat_as(home.path(), &[], &["add", &spec]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("none was found"), "{out}");
    assert!(!listed(home.path()).contains("skill:review"));
}

#[test]
fn an_scp_like_location_reaches_port_22() {
    // scp-like locations (`user@host:path`) carry no port: this needs port 22, which only root
    // can listen on; 127.0.0.2 keeps clear of an sshd the machine may run on 127.0.0.1.
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if !root || TcpListener::bind("127.0.0.2:22").is_err() {
        skip("needs root and a free 127.0.0.2:22 for an scp-like location");
        return;
    }
    let Some(sshd) = Sshd::start_on("127.0.0.2", 22) else {
        return;
    };
    let up = upstream();
    let home = sshd.client_home(&sshd.host_line(), true);
    let spec = format!(
        "{}@127.0.0.2:{}#skills/review",
        sshd.user,
        up.path().display()
    );
    let o = skillmeat_as(home.path(), &[], &["add", &spec]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(listed(home.path()).contains("skill:review"));
}
