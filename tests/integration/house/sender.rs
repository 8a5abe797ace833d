//! One sender: only `src/sender/` signs requests. No other shipped module calls the
//! authenticator's signing (`sign`, `sign_retry`, `sign_reusing`, or its awaited `header`), so
//! a second authenticate-and-send loop (exploration's and its oracle's used to be) cannot come
//! back unseen. `auth` itself (the authenticator and `auth/`) and test code are exempt.

use super::{code_only, shipped, sources};

/// Where signing may be called: the sender, and the authenticator itself.
const SIGNERS: &[&str] = &["sender/", "auth.rs", "auth/"];

/// The authenticator's signing methods that no other type in `src/` has: any call is one.
const SIGNING: &[&str] = &["sign", "sign_retry", "sign_reusing"];

/// `file:line: .method(` for every call of the authenticator's signing in the shipped code of
/// `text` (a file under `src/`): a call of a [`SIGNING`] method (`.sign(`, or
/// `Authenticator::sign(`), or an `Authenticator`'s `header`: `Authenticator::header(`, or a
/// `.header(…)` that is awaited (a response's `header` is not async, the authenticator's is).
/// Comments and strings are skipped; a test module is not shipped.
fn signing_calls(file: &str, text: &str) -> Vec<String> {
    let code = code_only(shipped(text));
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    for (at, _) in code.match_indices('(') {
        let name_start = code[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(0, |k| k + 1);
        let name = &code[name_start..at];
        let before = code[..name_start].trim_end();
        let by_method = before.ends_with('.');
        let by_path = before.ends_with("Authenticator::");
        let signing = SIGNING.contains(&name) && (by_method || before.ends_with("::"));
        let header = name == "header" && (by_path || (by_method && awaited(&code, at)));
        if signing || header {
            out.push(format!("src/{file}:{}: .{name}(", line_of(at)));
        }
    }
    out
}

/// Whether the call whose `(` is at `open` in `code` is followed by `.await`.
fn awaited(code: &str, open: usize) -> bool {
    let mut depth = 0usize;
    for (k, c) in code[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    let rest = code[open + k + 1..].trim_start();
                    return rest.starts_with(".await");
                }
            }
            _ => {}
        }
    }
    false
}

/// Whether `file` (a path under `src/`) may call the authenticator's signing.
fn may_sign(file: &str) -> bool {
    SIGNERS
        .iter()
        .any(|s| file == *s || (s.ends_with('/') && file.starts_with(s)))
        || file.ends_with("/tests.rs")
}

#[test]
fn only_the_sender_calls_the_authenticators_signing() {
    let found: Vec<String> = sources()
        .iter()
        .filter(|(file, _)| !may_sign(file))
        .flat_map(|(file, text)| signing_calls(file, text))
        .collect();
    assert!(
        found.is_empty(),
        "the authenticator's signing called outside src/sender/ (send through the one \
         sender, sender::Sender, instead):\n{}",
        found.join("\n")
    );
    // The rule has something to find: the sender does sign.
    let sender: Vec<String> = sources()
        .iter()
        .filter(|(file, _)| file.starts_with("sender/"))
        .flat_map(|(file, text)| signing_calls(file, text))
        .collect();
    assert!(
        sender.iter().any(|c| c.ends_with(".sign_retry(")),
        "the sender's own signing was not found: {sender:?}"
    );
}

#[test]
fn a_second_signer_is_refused() {
    // A planted second authenticate-and-send loop: each way to sign is found, a response's
    // `header` and what comments, strings and the test module say are not.
    let planted = "use crate::auth::Authenticator;\n\
         async fn send(a: &Authenticator, c: &Client, m: &Method, u: &str) -> Result<()> {\n\
         \x20   let first = a.sign(c, m, u).await?; // a.sign_retry( in a comment\n\
         \x20   let v = a\n        .header(c, m, u)\n        .await?;\n\
         \x20   let retry = a.sign_retry(r, c, m, u);\n\
         \x20   let reused = Authenticator::sign_reusing(a, c, m, u).await;\n\
         \x20   let ct = resp.header(\"content-type\").map(str::to_owned);\n\
         \x20   let s = \".sign(\";\n\
         \x20   Ok(())\n}\n\
         #[cfg(test)]\nmod tests {\n    async fn t(a: &A) { a.sign(c, m, u).await; }\n}\n";
    let found = signing_calls("explore/engine.rs", planted);
    assert_eq!(
        found,
        [
            "src/explore/engine.rs:3: .sign(",
            "src/explore/engine.rs:5: .header(",
            "src/explore/engine.rs:7: .sign_retry(",
            "src/explore/engine.rs:8: .sign_reusing(",
        ]
    );
    assert!(!may_sign("explore/engine.rs") && !may_sign("server/auth.rs"));
    assert!(may_sign("sender/forged.rs") && may_sign("auth.rs") && may_sign("auth/nonce.rs"));
}
