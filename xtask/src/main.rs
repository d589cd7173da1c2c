//! Builds what users get, in place of cargo-leptos: the release server binary and the web UI's
//! site folder (the hydrating wasm bundle, its JavaScript glue, the stylesheet and the assets).
//!
//! `cargo xtask build` (an alias in `.cargo/config.toml`) runs, in order:
//!
//! 1. `cargo build --release -p skillmeat` — a no-op after `make test`'s test build, which builds
//!    the same binary with the same features (see `scripts/test.sh`);
//! 2. `cargo build -p skillmeat-frontend --target wasm32-unknown-unknown --profile wasm-release`
//!    in `target/front`, plus `$SKILLMEAT_WASM_CARGO_ARGS` (`-Zbuild-std=…` on the Debian
//!    toolchain route);
//! 3. wasm-bindgen's generator (the library the CLI is made of, `--target web`), writing
//!    `pkg/skillmeat.js` and `pkg/skillmeat.wasm` (Leptos' hydration script loads that name when
//!    `LEPTOS_OUTPUT_NAME` is set at compile time, as `scripts/toolchain.sh` does);
//! 4. `wasm-opt -Oz` from binaryen, with the flags cargo-leptos 0.3 used;
//! 5. `style/main.css` as `pkg/skillmeat.css`, and `public/*` at the site root.
//!
//! The site is assembled in `target/site.new` and swapped in whole, so a running server never
//! serves a half-written bundle. This is a developer tool: it is not part of the installed binary.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// The bundle's file names; the server and Leptos' hydration script ask for these.
const OUTPUT_NAME: &str = "skillmeat";
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const WASM_PROFILE: &str = "wasm-release";
/// Besides `CARGO_PKG_*` and `CARGO_MANIFEST_*`: what `cargo run` sets for the program it runs.
const RUN_ONLY_VARS: [&str; 3] = [
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];

const USAGE: &str = "\
Builds SkillMeat as users get it.

Usage: cargo xtask <COMMAND>

Commands:
  build   the release server (target/release/skillmeat) and the site (target/site)
  site    the site only: wasm bundle, JavaScript glue, stylesheet and assets

Environment:
  SKILLMEAT_WASM_CARGO_ARGS  extra arguments for the wasm build (set by scripts/toolchain.sh)
  CARGO_TARGET_DIR           where cargo builds (default: target/ in the workspace)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["build"] => Workspace::locate().and_then(|ws| {
            ws.build_server()?;
            ws.build_site()
        }),
        ["site"] => Workspace::locate().and_then(|ws| ws.build_site()),
        ["-h" | "--help" | "help"] => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

struct Workspace {
    root: PathBuf,
    target: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Workspace> {
        // `cargo xtask` (`cargo run -p xtask`) says where xtask/ is as it runs it. The path
        // compiled in is only the fallback: the shared build folder of CI (.ci/run) hands a
        // binary compiled in one clone to the next, whose path differs.
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .context("xtask/ has no parent folder")?
            .to_path_buf();
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => root.join(dir),
            None => root.join("target"),
        };
        Ok(Workspace { root, target })
    }

    fn cargo(&self) -> Command {
        let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cmd.current_dir(&self.root);
        // `cargo run` hands this process its own package's variables; a build must not see them.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("CARGO_PKG_")
                || key.starts_with("CARGO_MANIFEST_")
                || RUN_ONLY_VARS.contains(&&*key)
            {
                cmd.env_remove(&*key);
            }
        }
        // Leptos bakes the bundle's file name in at compile time (see the module doc).
        if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
            cmd.env("LEPTOS_OUTPUT_NAME", OUTPUT_NAME);
        }
        cmd
    }

    fn build_server(&self) -> Result<()> {
        let mut cmd = self.cargo();
        cmd.args([
            "build",
            "--release",
            "-p",
            "skillmeat",
            "--bin",
            "skillmeat",
        ]);
        run("server", &mut cmd)
    }

    fn build_site(&self) -> Result<()> {
        let started = Instant::now();
        let wasm = self.build_wasm()?;
        let staging = self.target.join("site.new");
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot clear {}", staging.display()))?;
        }
        let pkg = staging.join("pkg");
        fs::create_dir_all(&pkg).with_context(|| format!("cannot create {}", pkg.display()))?;

        let generated = Instant::now();
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm)
            .out_name(OUTPUT_NAME)
            .web(true)?
            .typescript(false)
            .generate(&pkg)
            .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;
        let bundle = pkg.join(format!("{OUTPUT_NAME}.wasm"));
        let emitted = pkg.join(format!("{OUTPUT_NAME}_bg.wasm"));
        fs::rename(&emitted, &bundle)
            .with_context(|| format!("wasm-bindgen wrote no {}", emitted.display()))?;
        eprintln!("xtask: wasm-bindgen in {:.1?}", generated.elapsed());

        let optimised = Instant::now();
        let mut opt = Command::new("wasm-opt");
        // The flags cargo-leptos 0.3 passed.
        opt.args(["-Oz", "--enable-bulk-memory"])
            .arg("--enable-nontrapping-float-to-int")
            .arg(&bundle)
            .arg("-o")
            .arg(&bundle);
        run("wasm-opt", &mut opt).context(
            "wasm-opt comes from binaryen (Debian package binaryen; scripts/setup.sh installs it)",
        )?;
        eprintln!("xtask: wasm-opt in {:.1?}", optimised.elapsed());

        copy_file(
            &self.root.join("style/main.css"),
            &pkg.join(format!("{OUTPUT_NAME}.css")),
        )?;
        copy_tree(&self.root.join("public"), &staging)?;
        self.swap_in(&staging)?;
        let site = self.target.join("site");
        eprintln!(
            "xtask: site ready in {} ({:.1?}); wasm {} bytes, js {} bytes",
            site.display(),
            started.elapsed(),
            size_of(&site.join("pkg").join(format!("{OUTPUT_NAME}.wasm")))?,
            size_of(&site.join("pkg").join(format!("{OUTPUT_NAME}.js")))?,
        );
        Ok(())
    }

    /// Builds the frontend crate for the browser and returns the path of its `.wasm`.
    ///
    /// It builds in a target directory of its own, `target/front`, so that it takes no lock on
    /// `target/` and can run while a host build does. The two share nothing anyway: the host
    /// crates of this build are compiled in the `wasm-release` profile.
    fn build_wasm(&self) -> Result<PathBuf> {
        let front = self.target.join("front");
        let mut cmd = self.cargo();
        cmd.args(["build", "--package", "skillmeat-frontend", "--lib"])
            .args(["--target", WASM_TARGET, "--profile", WASM_PROFILE])
            .arg("--target-dir")
            .arg(&front);
        if let Some(extra) = std::env::var_os("SKILLMEAT_WASM_CARGO_ARGS") {
            let extra = extra
                .into_string()
                .map_err(|_| anyhow::anyhow!("SKILLMEAT_WASM_CARGO_ARGS is not UTF-8"))?;
            cmd.args(extra.split_whitespace());
        }
        run("wasm", &mut cmd)?;
        let wasm = front
            .join(WASM_TARGET)
            .join(WASM_PROFILE)
            .join("skillmeat_frontend.wasm");
        if !wasm.is_file() {
            bail!("the wasm build succeeded but left no {}", wasm.display());
        }
        Ok(wasm)
    }

    /// Replaces `target/site` with `staging` by two renames.
    fn swap_in(&self, staging: &Path) -> Result<()> {
        let site = self.target.join("site");
        let old = self.target.join("site.old");
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("cannot clear {}", old.display()))?;
        }
        if site.exists() {
            fs::rename(&site, &old).with_context(|| format!("cannot move {}", site.display()))?;
        }
        fs::rename(staging, &site).with_context(|| format!("cannot place {}", site.display()))?;
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        }
        Ok(())
    }
}

fn run(what: &str, cmd: &mut Command) -> Result<()> {
    let line: Vec<OsString> = std::iter::once(cmd.get_program().to_owned())
        .chain(cmd.get_args().map(ToOwned::to_owned))
        .collect();
    let shown = line
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("xtask: {what}: {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {}", line[0].to_string_lossy()))?;
    if !status.success() {
        bail!("{what} step failed ({status}): {shown}");
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to)
        .map(drop)
        .with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))
}

/// Copies the files under `from` into `to`, keeping sub-folders.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let entries = fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot read {}", from.display()))?;
        let kind = entry.file_type()?;
        let dest = to.join(entry.file_name());
        if kind.is_dir() {
            fs::create_dir_all(&dest)
                .with_context(|| format!("cannot create {}", dest.display()))?;
            copy_tree(&entry.path(), &dest)?;
        } else if kind.is_file() {
            copy_file(&entry.path(), &dest)?;
        } else {
            bail!("{} is neither a file nor a folder", entry.path().display());
        }
    }
    Ok(())
}

fn size_of(path: &Path) -> Result<u64> {
    Ok(fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len())
}
