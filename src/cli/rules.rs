//! `conformance rules`: the contract's rules (`spec/rules.yaml`) and the selected cases that
//! exercise each.

use integrations_conformance::rules::Rules;
use serde_json::json;

use super::cases::{CasesArgs, Format};
use super::print;
use super::select::{load_harness, select};
use super::CliResult;

pub(crate) fn rules(args: CasesArgs) -> CliResult<u8> {
    let (harness, _) = load_harness(args.selection.spec.as_deref())?;
    let cases = select(&harness.model, &args.selection)?;
    let rules = Rules::shared();
    let trace = rules.trace(cases.iter().map(|c| c.id.as_str()));
    match args.format {
        Format::Text => {
            let width = rules.rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
            let mut out = String::new();
            for (rule, mine) in rules.rules.iter().zip(&trace) {
                out.push_str(&format!(
                    "{:width$}  {:?}  {:>4} cases  {}\n",
                    rule.id,
                    rule.level,
                    mine.len(),
                    rule.text
                ));
            }
            let exercised = trace.iter().filter(|t| !t.is_empty()).count();
            out.push_str(&format!(
                "{} rules; {exercised} exercised by the {} selected cases\n",
                rules.rules.len(),
                cases.len()
            ));
            print(&out)?;
        }
        Format::Json => {
            let list: Vec<serde_json::Value> = rules
                .rules
                .iter()
                .zip(&trace)
                .map(|(rule, mine)| {
                    json!({
                        "id": rule.id,
                        "section": rule.section,
                        "level": rule.level,
                        "text": rule.text,
                        "cases": mine.iter().map(|&i| cases[i].id.as_str()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&list)?;
            text.push('\n');
            print(&text)?;
        }
    }
    Ok(0)
}
