//! How the environment's values of the target settings read. The variables themselves are
//! named once, by the flags of the one argument group (`settings::TargetArgs`, clap's `env`;
//! `settings::variables` lists them), for the command line and the cargo front end alike.

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
