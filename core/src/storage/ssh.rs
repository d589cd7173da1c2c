//! Ssh upstreams (`ssh://…`, scp-like `user@host:path`): which keys are offered to the server,
//! and errors that say what to do when the host key is unknown or every key is refused.
//!
//! The server's host key is checked by libgit2 against `~/.ssh/known_hosts` (plain, hashed and
//! `[host]:port` entries), as `ssh` does with `StrictHostKeyChecking yes`: a host that file does
//! not hold, or holds with another key, is refused before anything is sent. Nothing here widens
//! that; the certificate callback only notes the key's fingerprint so the error can show it.
//!
//! Keys are offered in this order, each once: the file named by `$SKILLMEAT_SSH_KEY` (alone, when
//! set); otherwise the keys of a running ssh-agent (`$SSH_AUTH_SOCK`), then `~/.ssh/id_ed25519`,
//! `~/.ssh/id_ecdsa` and `~/.ssh/id_rsa`, those that exist. A key with a passphrase must be
//! loaded into the agent: SkillMeat never asks for one.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;

use base64::Engine as _;
use git2::{CertificateCheckStatus, Cred, CredentialType, ErrorClass, ErrorCode, RemoteCallbacks};

/// The environment variable naming the one key file to offer.
pub const KEY_ENV: &str = "SKILLMEAT_SSH_KEY";

/// Whether git reaches `location` over ssh.
pub(crate) fn is_ssh(location: &str) -> bool {
    ["ssh://", "ssh+git://", "git+ssh://"]
        .iter()
        .any(|p| location.starts_with(p))
        || is_scp_like(location)
}

// user@host:path or host:path — a `:` before any `/`, and not a Windows drive or a URL.
fn is_scp_like(location: &str) -> bool {
    match location.find(':') {
        Some(colon) => {
            colon > 1 && !location[..colon].contains('/') && !location[colon..].starts_with("://")
        }
        None => false,
    }
}

/// What one connection attempt saw, for the error that follows a failure.
#[derive(Debug, Default)]
pub(crate) struct SshAttempt {
    /// The server's host key, as `TYPE SHA256:…` (as `ssh` prints it).
    host_key: RefCell<Option<String>>,
    /// The keys offered, in order, as shown to the user.
    offered: RefCell<Vec<String>>,
}

enum Key {
    Agent,
    File(PathBuf),
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn candidates() -> VecDeque<Key> {
    if let Some(path) = std::env::var_os(KEY_ENV).filter(|p| !p.is_empty()) {
        return VecDeque::from([Key::File(PathBuf::from(path))]);
    }
    let mut keys = VecDeque::new();
    if std::env::var_os("SSH_AUTH_SOCK").is_some_and(|s| std::path::Path::new(&s).exists()) {
        keys.push_back(Key::Agent);
    }
    if let Some(home) = home() {
        for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
            let path = home.join(".ssh").join(name);
            if path.is_file() {
                keys.push_back(Key::File(path));
            }
        }
    }
    keys
}

/// The login name when the location names none: the local account's, as `ssh` uses.
fn default_user() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "git".to_owned())
}

/// Installs the ssh credentials and host-key callbacks on `cb`.
pub(crate) fn install<'a>(cb: &mut RemoteCallbacks<'a>, attempt: &'a SshAttempt) {
    let mut queue: Option<VecDeque<Key>> = None;
    cb.credentials(move |_url, user_from_url, allowed| {
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(&default_user());
        }
        if !allowed.contains(CredentialType::SSH_KEY) {
            return Err(git2::Error::new(
                ErrorCode::Auth,
                ErrorClass::Ssh,
                "the server accepts no public-key login; SkillMeat logs in over ssh with keys only",
            ));
        }
        let user = user_from_url.map_or_else(default_user, str::to_owned);
        match queue.get_or_insert_with(candidates).pop_front() {
            Some(Key::Agent) => {
                attempt
                    .offered
                    .borrow_mut()
                    .push("the keys in ssh-agent".to_owned());
                Cred::ssh_key_from_agent(&user)
            }
            Some(Key::File(private)) => {
                attempt
                    .offered
                    .borrow_mut()
                    .push(private.display().to_string());
                let public = PathBuf::from(format!("{}.pub", private.display()));
                let public = public.is_file().then_some(public);
                Cred::ssh_key(&user, public.as_deref(), &private, None)
            }
            None => Err(git2::Error::new(
                ErrorCode::Auth,
                ErrorClass::Ssh,
                format!("no key was accepted for `{user}`"),
            )),
        }
    });
    cb.certificate_check(move |cert, _host| {
        if let Some(key) = cert.as_hostkey() {
            let kind = key
                .hostkey_type()
                .map_or("key", |t| t.name().trim_start_matches("ssh-"));
            let fingerprint = key.hash_sha256().map(|h| {
                format!(
                    "SHA256:{}",
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
                )
            });
            if let Some(fingerprint) = fingerprint {
                *attempt.host_key.borrow_mut() =
                    Some(format!("{} {fingerprint}", kind.to_uppercase()));
            }
        }
        // libgit2 decides from known_hosts (and, for https, the system's CAs).
        Ok(CertificateCheckStatus::CertificatePassthrough)
    });
}

/// The message for a failed ssh connection: what went wrong and what to do about it.
pub(crate) fn explain(e: &git2::Error, location: &str, attempt: &SshAttempt) -> String {
    let (host, port) = host_and_port(location);
    let at = match port {
        Some(p) => format!("[{host}]:{p}"),
        None => host.clone(),
    };
    if e.code() == ErrorCode::Certificate && e.class() == ErrorClass::Ssh {
        let key = attempt
            .host_key
            .borrow()
            .clone()
            .unwrap_or_else(|| "its key".to_owned());
        let ssh_cmd = match port {
            Some(p) => format!("ssh -p {p} {host}"),
            None => format!("ssh {host}"),
        };
        return format!(
            "the ssh host key of {at} ({key}) is not in ~/.ssh/known_hosts, or differs from the \
             one recorded there, so the connection was refused; check the fingerprint with the \
             server's owner, then record it by connecting once with `{ssh_cmd}`"
        );
    }
    // libgit2 says only the status of a refused HTTP request; say what it means here.
    if e.class() == ErrorClass::Http {
        let github = host == "github.com";
        let status = e.message();
        if status.ends_with(" 429") {
            return format!(
                "{status}: {at} is rate-limiting requests; wait and check again{}",
                if github {
                    " (a GITHUB_TOKEN raises GitHub's limit)"
                } else {
                    ""
                }
            );
        }
        if status.ends_with(" 403") {
            return format!(
                "{status}: {at} refused the request (a rate limit, or no access){}",
                if github {
                    "; set GITHUB_TOKEN to a token that can read the repository"
                } else {
                    ""
                }
            );
        }
    }
    let offered = attempt.offered.borrow();
    let message = e.message().to_ascii_lowercase();
    let about_keys =
        e.code() == ErrorCode::Auth || message.contains("auth") || message.contains("key");
    if e.class() == ErrorClass::Ssh && about_keys {
        let tried = if offered.is_empty() {
            "none was found".to_owned()
        } else {
            format!("tried {}", offered.join(", "))
        };
        return format!(
            "{} (ssh keys: {tried}; add your public key to {host}, load a key with a passphrase \
             into ssh-agent, or name a key file with {KEY_ENV})",
            e.message()
        );
    }
    e.message().to_owned()
}

/// The host and port of an ssh location, for messages.
fn host_and_port(location: &str) -> (String, Option<u16>) {
    let rest = location.split_once("://").map_or(location, |(_, r)| r);
    let authority = if location.contains("://") {
        rest.split('/').next().unwrap_or(rest)
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[')
        && let Some((host, tail)) = v6.split_once(']')
    {
        return (
            host.to_owned(),
            tail.strip_prefix(':').and_then(|p| p.parse().ok()),
        );
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if location.contains("://") => (host.to_owned(), port.parse().ok()),
        _ => (host_port.to_owned(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_locations_are_told_apart() {
        for ssh in [
            "ssh://git@example.com/team/skills.git",
            "git@example.com:team/skills.git",
            "example.com:skills.git",
            "git+ssh://example.com/x",
        ] {
            assert!(is_ssh(ssh), "{ssh}");
        }
        for other in [
            "https://example.com/x.git",
            "/srv/skills",
            "./skills",
            "file:///srv/x",
            "C:/x",
        ] {
            assert!(!is_ssh(other), "{other}");
        }
    }

    #[test]
    fn hosts_and_ports_for_messages() {
        assert_eq!(
            host_and_port("ssh://git@example.com:2222/x.git"),
            ("example.com".to_owned(), Some(2222))
        );
        assert_eq!(
            host_and_port("ssh://example.com/x.git"),
            ("example.com".to_owned(), None)
        );
        assert_eq!(
            host_and_port("git@example.com:team/x.git"),
            ("example.com".to_owned(), None)
        );
        assert_eq!(
            host_and_port("ssh://u@[::1]:2200/x"),
            ("::1".to_owned(), Some(2200))
        );
    }
}
