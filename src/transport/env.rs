//! The environment variables of the target settings, named once. The one argument group of the
//! target settings (`settings::TargetArgs`) reads them (clap's `env`;
//! `tests/integration/help.rs` checks that `run --help` names exactly these), for the command
//! line and the cargo front end (`tests/conformance.rs`) alike.

pub const TARGET: &str = "CONFORMANCE_TARGET";
pub const AUTH: &str = "CONFORMANCE_AUTH";
pub const READONLY_AUTH: &str = "CONFORMANCE_READONLY_AUTH";
pub const OAUTH_CLIENT: &str = "CONFORMANCE_OAUTH_CLIENT";
pub const GROUP_ID: &str = "CONFORMANCE_GROUP_ID";
pub const CM_GROUP_ID: &str = "CONFORMANCE_CM_GROUP_ID";
pub const OTHER_GROUP_ID: &str = "CONFORMANCE_OTHER_GROUP_ID";
pub const EXPIRED_TOKEN: &str = "CONFORMANCE_EXPIRED_TOKEN";
pub const INSECURE: &str = "CONFORMANCE_INSECURE";
pub const HEADERS: &str = "CONFORMANCE_HEADERS";
pub const CA_CERT: &str = "CONFORMANCE_CA_CERT";
pub const CLIENT_CERT: &str = "CONFORMANCE_CLIENT_CERT";
pub const CLIENT_KEY: &str = "CONFORMANCE_CLIENT_KEY";
pub const TIMEOUT: &str = "CONFORMANCE_TIMEOUT";
pub const DEADLINE: &str = "CONFORMANCE_DEADLINE";
pub const RATE: &str = "CONFORMANCE_RATE";
pub const CONFIG: &str = "CONFORMANCE_CONFIG";

/// Every variable of the target settings.
pub const ALL: [&str; 17] = [
    TARGET,
    AUTH,
    READONLY_AUTH,
    OAUTH_CLIENT,
    GROUP_ID,
    CM_GROUP_ID,
    OTHER_GROUP_ID,
    EXPIRED_TOKEN,
    INSECURE,
    HEADERS,
    CA_CERT,
    CLIENT_CERT,
    CLIENT_KEY,
    TIMEOUT,
    DEADLINE,
    RATE,
    CONFIG,
];

/// A switch's value (`--insecure`, `CONFORMANCE_INSECURE`): `true`, `false`, `1`, `0`, `yes`,
/// `no`, `on`, `off` in any case; blank is off. The error does not repeat the value.
pub fn switch(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err("not a switch: true or false (also 1/0, yes/no, on/off)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::switch;

    #[test]
    fn a_switch_reads_the_usual_words_and_refuses_others() {
        for on in ["true", "TRUE", "1", "yes", "On", " true "] {
            assert_eq!(switch(on), Ok(true), "{on:?}");
        }
        for off in ["false", "False", "0", "no", "OFF", ""] {
            assert_eq!(switch(off), Ok(false), "{off:?}");
        }
        let e = switch("maybe-secret").unwrap_err();
        assert!(e.contains("true or false") && !e.contains("maybe"), "{e}");
    }
}
