//! The contract's rules, each traced to the cases that exercise it (`spec/rules.yaml`).
//!
//! A rule names its cases by regular expressions over case ids, so the trace is data beside the
//! spec rather than a tag spread through the generators: a new case lands in its rules by its
//! name, and the rules test (`tests/integration/rules.rs`) fails on a rule that no case
//! exercises and on a case that exercises no rule.
//!
//! A run's coverage follows from its cases' outcomes: a rule is *failed* when one of its cases
//! failed, *passed* when its judged cases all passed, *skipped* when every one of its selected
//! cases was skipped (with the most frequent reason), and *not run* when none of its cases was
//! selected at all.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Level;

/// The bundled rule list.
const BUNDLED: &str = include_str!("../spec/rules.yaml");

/// One rule of the contract.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub section: String,
    pub level: Level,
    pub text: String,
    cases: Vec<Regex>,
    except: Vec<Regex>,
}

impl Rule {
    /// Whether the case `id` exercises this rule.
    pub fn covers(&self, id: &str) -> bool {
        self.cases.iter().any(|r| r.is_match(id)) && !self.except.iter().any(|r| r.is_match(id))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    section: String,
    level: Level,
    text: String,
    cases: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
}

/// The contract's rules, in the file's order.
#[derive(Debug, Clone)]
pub struct Rules {
    pub rules: Vec<Rule>,
}

impl Rules {
    /// The rules shipped with the harness (`spec/rules.yaml`).
    pub fn bundled() -> Result<Rules> {
        Rules::parse(BUNDLED)
    }

    /// The bundled rules, parsed once per process (the file is part of the binary and a unit
    /// test parses it, so this cannot fail in a released build).
    pub fn shared() -> &'static Rules {
        static RULES: OnceLock<Rules> = OnceLock::new();
        RULES.get_or_init(|| Rules::bundled().expect("the bundled spec/rules.yaml parses"))
    }

    /// Parses a rule list; ids must be unique and every expression must compile.
    pub fn parse(text: &str) -> Result<Rules> {
        let raw: RawFile =
            serde_yaml_ng::from_str(text).map_err(|e| Error::SpecInvalid(format!("rules: {e}")))?;
        let mut seen = BTreeMap::new();
        let mut rules = Vec::with_capacity(raw.rules.len());
        for r in raw.rules {
            if let Some(()) = seen.insert(r.id.clone(), ()) {
                return Err(Error::SpecInvalid(format!(
                    "rules: {} is listed twice",
                    r.id
                )));
            }
            if !r.id.starts_with(&format!("{}.", r.section)) {
                return Err(Error::SpecInvalid(format!(
                    "rules: {} must start with its section {:?}",
                    r.id, r.section
                )));
            }
            if r.cases.is_empty() {
                return Err(Error::SpecInvalid(format!(
                    "rules: {} names no cases",
                    r.id
                )));
            }
            let compile = |list: &[String]| -> Result<Vec<Regex>> {
                list.iter()
                    .map(|p| {
                        Regex::new(p).map_err(|e| {
                            Error::SpecInvalid(format!("rules: {}: pattern {p:?}: {e}", r.id))
                        })
                    })
                    .collect()
            };
            rules.push(Rule {
                cases: compile(&r.cases)?,
                except: compile(&r.except)?,
                id: r.id,
                section: r.section,
                level: r.level,
                text: r.text,
            });
        }
        Ok(Rules { rules })
    }

    /// The indices of the rules the case `id` exercises, in the file's order. Each rule's own
    /// expressions, one by one: a `regex::RegexSet` over all of them answers which-matched
    /// through its slowest engine (measured: 18% of a run's CPU for 2,800 ids).
    pub fn indices_of_case(&self, id: &str) -> Vec<usize> {
        (0..self.rules.len())
            .filter(|&i| self.rules[i].covers(id))
            .collect()
    }

    /// The ids of the rules the case `id` exercises.
    pub fn of_case(&self, id: &str) -> Vec<&str> {
        self.indices_of_case(id)
            .into_iter()
            .map(|i| self.rules[i].id.as_str())
            .collect()
    }

    /// For every rule, in order, the indices of the `ids` that exercise it.
    pub fn trace<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.rules.len()];
        for (i, id) in ids.into_iter().enumerate() {
            for r in self.indices_of_case(id) {
                out[r].push(i);
            }
        }
        out
    }

    /// The rules no case of `ids` exercises.
    pub fn unexercised<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&Rule> {
        self.trace(ids)
            .iter()
            .zip(&self.rules)
            .filter(|(cases, _)| cases.is_empty())
            .map(|(_, r)| r)
            .collect()
    }

    /// The coverage of a run: `outcomes` holds each selected case's id and outcome.
    pub fn coverage<'a>(
        &self,
        outcomes: impl IntoIterator<Item = (&'a str, CaseState<'a>)>,
    ) -> Vec<RuleCoverage> {
        let mut mine: Vec<Vec<(&str, CaseState<'_>)>> = vec![Vec::new(); self.rules.len()];
        for (id, state) in outcomes {
            for r in self.indices_of_case(id) {
                mine[r].push((id, state));
            }
        }
        self.rules
            .iter()
            .zip(&mine)
            .map(|(rule, mine)| RuleCoverage::of(rule, mine))
            .collect()
    }
}

/// What became of one case, as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseState<'a> {
    Passed,
    Failed,
    Skipped(&'a str),
}

/// What a run did with a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    /// Every selected case of the rule ran and passed.
    Passed,
    Failed,
    /// Some of its cases passed and others were skipped: the rule is not fully judged (the
    /// reason names the missing part and what would run it).
    Partly,
    Skipped,
    NotRun,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Passed => "passed",
            RuleStatus::Failed => "failed",
            RuleStatus::Partly => "partly exercised",
            RuleStatus::Skipped => "skipped",
            RuleStatus::NotRun => "not run",
        }
    }
}

/// One rule's line in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCoverage {
    pub id: String,
    pub section: String,
    pub level: Level,
    pub text: String,
    pub status: RuleStatus,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// Why a skipped rule was skipped, or why a rule was not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The failed cases' ids (the rest are found by the rule's id in the case list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_cases: Vec<String>,
}

impl RuleCoverage {
    fn of(rule: &Rule, mine: &[(&str, CaseState<'_>)]) -> RuleCoverage {
        let mut skip_reasons: BTreeMap<&str, usize> = BTreeMap::new();
        let (mut passed, mut failed, mut skipped) = (0, 0, 0);
        let mut failed_cases = Vec::new();
        for (id, state) in mine {
            match state {
                CaseState::Passed => passed += 1,
                CaseState::Failed => {
                    failed += 1;
                    failed_cases.push((*id).to_owned());
                }
                CaseState::Skipped(reason) => {
                    skipped += 1;
                    *skip_reasons.entry(reason).or_default() += 1;
                }
            }
        }
        let main = skip_reasons
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(r, _)| r.to_owned());
        let (status, reason) = if failed > 0 {
            (RuleStatus::Failed, None)
        } else if passed > 0 && skipped == 0 {
            (RuleStatus::Passed, None)
        } else if passed > 0 {
            let reason = main.map(|r| format!("{skipped} of its cases skipped: {r}"));
            (RuleStatus::Partly, reason)
        } else if skipped > 0 {
            (RuleStatus::Skipped, main)
        } else {
            (
                RuleStatus::NotRun,
                Some("none of its cases was selected".to_owned()),
            )
        };
        RuleCoverage {
            id: rule.id.clone(),
            section: rule.section.clone(),
            level: rule.level,
            text: rule.text.clone(),
            status,
            passed,
            failed,
            skipped,
            reason,
            failed_cases,
        }
    }
}

/// The counts a console summary ends with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCounts {
    pub total: usize,
    /// Rules with every selected case judged (passed or failed).
    pub exercised: usize,
    /// Rules with some cases judged and some skipped.
    #[serde(default)]
    pub partly: usize,
    pub failed: usize,
    pub skipped: usize,
    pub not_run: usize,
}

impl RuleCounts {
    pub fn of(coverage: &[RuleCoverage]) -> RuleCounts {
        let count = |s: RuleStatus| coverage.iter().filter(|c| c.status == s).count();
        RuleCounts {
            total: coverage.len(),
            exercised: count(RuleStatus::Passed) + count(RuleStatus::Failed),
            partly: count(RuleStatus::Partly),
            failed: count(RuleStatus::Failed),
            skipped: count(RuleStatus::Skipped),
            not_run: count(RuleStatus::NotRun),
        }
    }

    /// "rules: N of M exercised, K failed" (and how many only partly).
    pub fn line(&self) -> String {
        let partly = if self.partly > 0 {
            format!(", {} partly exercised", self.partly)
        } else {
            String::new()
        };
        format!(
            "rules: {} of {} exercised{partly}, {} failed",
            self.exercised, self.total, self.failed
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
rules:
  - id: 4.mask
    section: "4"
    level: E
    text: "masked"
    cases: ['-masked-in-get$']
  - id: 5.codes
    section: "5"
    level: S
    text: "codes"
    cases: ['-missing-[a-z-]+$']
    except: ['-type-missing$']
"#;

    #[test]
    fn the_bundled_rules_parse() {
        let rules = Rules::bundled().unwrap();
        assert!(rules.rules.len() > 50, "{}", rules.rules.len());
    }

    #[test]
    fn except_removes_a_match() {
        let rules = Rules::parse(TWO).unwrap();
        assert_eq!(
            rules.of_case("a/b/slack-missing-api-token"),
            vec!["5.codes"]
        );
        assert!(rules.of_case("a/b/slack-type-missing").is_empty());
        assert_eq!(rules.of_case("a/b/slack-masked-in-get"), vec!["4.mask"]);
    }

    #[test]
    fn a_rule_without_cases_is_reported_unexercised() {
        let rules = Rules::parse(TWO).unwrap();
        let un = rules.unexercised(["a/b/slack-masked-in-get"]);
        assert_eq!(un.len(), 1);
        assert_eq!(un[0].id, "5.codes");
        assert!(rules
            .unexercised(["a/b/slack-masked-in-get", "a/b/x-missing-y"])
            .is_empty());
    }

    #[test]
    fn bad_files_are_refused_with_the_reason() {
        let twice = format!("{TWO}{}", &TWO[TWO.find("  - id: 4.mask").unwrap()..]);
        let e = Rules::parse(&twice).unwrap_err().to_string();
        assert!(e.contains("4.mask is listed twice"), "{e}");
        let bad = TWO.replace("-masked-in-get$", "(");
        let e = Rules::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("4.mask: pattern"), "{e}");
        let e = Rules::parse(&TWO.replace("id: 4.mask", "id: 3.mask"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must start with its section"), "{e}");
        let e = Rules::parse(&TWO.replace("level: E", "level: X"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rules:"), "{e}");
    }

    #[test]
    fn coverage_states() {
        let rules = Rules::parse(TWO).unwrap();
        let cov = rules.coverage([
            ("a/b/x-masked-in-get", CaseState::Passed),
            ("a/b/x-missing-y", CaseState::Failed),
        ]);
        assert_eq!(cov[0].status, RuleStatus::Passed);
        assert_eq!(cov[1].status, RuleStatus::Failed);
        assert_eq!(cov[1].failed_cases, vec!["a/b/x-missing-y"]);
        let counts = RuleCounts::of(&cov);
        assert_eq!(counts.line(), "rules: 2 of 2 exercised, 1 failed");

        let cov = rules.coverage([
            (
                "a/b/x-masked-in-get",
                CaseState::Skipped("no read-only credentials"),
            ),
            (
                "c/d/x-masked-in-get",
                CaseState::Skipped("no read-only credentials"),
            ),
            ("e/f/x-masked-in-get", CaseState::Skipped("other")),
        ]);
        assert_eq!(cov[0].status, RuleStatus::Skipped);
        assert_eq!(cov[0].reason.as_deref(), Some("no read-only credentials"));
        assert_eq!(cov[1].status, RuleStatus::NotRun);
        let counts = RuleCounts::of(&cov);
        assert_eq!(
            (counts.exercised, counts.skipped, counts.not_run),
            (0, 1, 1)
        );
    }
}
