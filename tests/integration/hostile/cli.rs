//! Driving the `conformance` binary: a child that is killed when the guard drops, and bounded
//! waits that never hang the test.

use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_conformance");

/// A running `conformance` process; killed (and reaped) on drop if still running.
pub(crate) struct Child {
    child: std::process::Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
    started: Instant,
}

/// How a process ended.
#[derive(Debug)]
pub(crate) struct Ended {
    /// `None`: killed by a signal (or by us, at the time limit).
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
    /// The time limit passed and the process was killed.
    pub(crate) killed: bool,
}

impl Ended {
    pub(crate) fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn drain(mut r: impl std::io::Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

impl Child {
    pub(crate) fn spawn(args: &[&str]) -> Child {
        let mut cmd = Command::new(BIN);
        cmd.args(args);
        // Nothing from the caller's environment chooses the target or a proxy.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_ascii_uppercase();
            if k.starts_with("CONFORMANCE_") || k.ends_with("_PROXY") {
                cmd.env_remove(&k).env_remove(k.to_ascii_lowercase());
            }
        }
        let mut child = cmd
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn conformance");
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Child {
            child,
            stdout,
            stderr,
            started: Instant::now(),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGINT (as Ctrl-C would) with the system's `kill`.
    pub(crate) fn interrupt(&self) {
        let ok = Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -INT {} failed", self.pid());
    }

    /// Waits up to `limit`; past it the process is killed and `killed` is set.
    pub(crate) fn wait(mut self, limit: Duration) -> Ended {
        let mut killed = false;
        let status: ExitStatus = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if self.started.elapsed() >= limit {
                killed = true;
                let _ = self.child.kill();
                break self.child.wait().expect("wait");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = self.started.elapsed();
        let stdout = self.stdout.take().map(|h| h.join().unwrap_or_default());
        let stderr = self.stderr.take().map(|h| h.join().unwrap_or_default());
        Ended {
            code: status.code(),
            stdout: stdout.unwrap_or_default(),
            stderr: stderr.unwrap_or_default(),
            elapsed,
            killed,
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the binary to completion (at most `limit`), off the async runtime's worker threads.
pub(crate) async fn run(args: Vec<String>, limit: Duration) -> Ended {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Child::spawn(&args).wait(limit)
    })
    .await
    .expect("join")
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "conformance-hostile-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> String {
        self.0.display().to_string()
    }

    /// Every file below, with its text.
    pub(crate) fn files(&self) -> Vec<(std::path::PathBuf, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    let bytes = std::fs::read(&p).unwrap_or_default();
                    out.push((p, String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
