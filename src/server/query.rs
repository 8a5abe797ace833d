//! Query parameters: what the operation declares in the model (type, default, bounds) and
//! nothing else. Parameters an operation does not declare are ignored, which is how get and
//! delete ignore the page parameters and cloud-manager ignores `includeCount`.
//!
//! Syntax choices (contract section 8): a repeated parameter uses its first value; booleans are
//! exactly `true` or `false`; integers are an optional sign and decimal digits (`01` is 1; empty
//! is not an integer); `pageNum` has no upper bound, even past `u64`.

use serde_json::json;
#[cfg(test)]
use serde_json::Value;

use crate::model::{Operation, ParamKind, QueryParam, QueryRole, Situation, Wire};

use super::error::{quote_input, ApiError};
use super::fault::{Fault, FaultSet};

/// The decoded query string, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawQuery(Vec<(String, String)>);

impl RawQuery {
    pub(crate) fn parse(query: Option<&str>) -> Self {
        RawQuery(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a parameter.
    pub(crate) fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a boolean parameter is exactly `true` (used to format errors raised before the
    /// query is validated).
    pub(crate) fn is_true(&self, name: &str) -> bool {
        self.first(name) == Some("true")
    }

    /// The first value of a page or format parameter (its name read from the model).
    pub(crate) fn of(&self, wire: &Wire, role: QueryRole) -> Option<&str> {
        self.first(wire.query(role))
    }
}

/// A non-negative integer of any size: its decimal digits (no leading zeros) and its value,
/// saturated at `u64::MAX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BigCount {
    pub(crate) digits: String,
    pub(crate) value: u64,
}

impl BigCount {
    pub(crate) fn from_u64(n: u64) -> Self {
        BigCount {
            digits: n.to_string(),
            value: n,
        }
    }

    /// One less (for the `previous` link); zero stays zero.
    pub(crate) fn pred(&self) -> BigCount {
        if self.value < u64::MAX {
            return BigCount::from_u64(self.value.saturating_sub(1));
        }
        // Decimal decrement of a number that may exceed u64.
        let mut d: Vec<u8> = self.digits.bytes().collect();
        let mut i = d.len();
        while i > 0 {
            i -= 1;
            if d[i] == b'0' {
                d[i] = b'9';
            } else {
                d[i] -= 1;
                break;
            }
        }
        let digits = String::from_utf8(d).unwrap_or_default();
        let digits = digits.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        BigCount {
            digits: digits.to_owned(),
            value: digits.parse().unwrap_or(u64::MAX),
        }
    }
}

/// An integer value as sent: `None` if not an integer; otherwise its sign and magnitude.
fn parse_integer(s: &str) -> Option<(bool, BigCount)> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
    let value = trimmed.parse::<u64>().unwrap_or(u64::MAX);
    Some((
        negative && value != 0,
        BigCount {
            digits: trimmed.to_owned(),
            value,
        },
    ))
}

/// The effective values of the declared parameters.
#[derive(Debug, Clone)]
pub(crate) struct Params {
    pub(crate) page_num: BigCount,
    pub(crate) items_per_page: u64,
    /// `None` when the operation does not declare `includeCount`.
    pub(crate) include_count: Option<bool>,
    pub(crate) pretty: bool,
    pub(crate) envelope: bool,
}

impl Params {
    /// The defaults, for formatting when no operation applies.
    pub(crate) fn lenient(q: &RawQuery, wire: &Wire) -> Self {
        Params {
            page_num: BigCount::from_u64(1),
            items_per_page: 100,
            include_count: None,
            pretty: q.is_true(wire.query(QueryRole::Pretty)),
            envelope: q.is_true(wire.query(QueryRole::Envelope)),
        }
    }
}

enum Parsed {
    Int(BigCount),
    Bool(bool),
}

fn reject(op: &Operation, p: &QueryParam, value: &str, why: &str, wire: &Wire) -> ApiError {
    ApiError::of(
        &wire.codes,
        Some(op),
        Situation::InvalidQueryParameter,
        format!(
            "Invalid value {} for query parameter {}: {why}.",
            quote_input(value),
            p.name
        ),
    )
    .params(vec![json!(p.name), json!(quote_input(value))])
}

fn parse_param(
    op: &Operation,
    p: &QueryParam,
    value: &str,
    wire: &Wire,
) -> Result<Parsed, ApiError> {
    match p.kind {
        ParamKind::Boolean => match value {
            "true" => Ok(Parsed::Bool(true)),
            "false" => Ok(Parsed::Bool(false)),
            _ => Err(reject(op, p, value, "expected true or false", wire)),
        },
        ParamKind::Integer => {
            let Some((negative, n)) = parse_integer(value) else {
                return Err(reject(op, p, value, "expected an integer", wire));
            };
            let below = |min: i64| {
                if negative {
                    // -n < min  ⇔  n > -min
                    min >= 0 || n.value > min.unsigned_abs()
                } else {
                    min > 0 && n.value < min as u64
                }
            };
            if let Some(min) = p.minimum {
                if below(min) {
                    return Err(reject(op, p, value, &format!("the minimum is {min}"), wire));
                }
            } else if negative {
                return Err(reject(
                    op,
                    p,
                    value,
                    "expected a non-negative integer",
                    wire,
                ));
            }
            if let Some(max) = p.maximum {
                if max < 0 || (!negative && n.value > max as u64) {
                    return Err(reject(op, p, value, &format!("the maximum is {max}"), wire));
                }
            }
            Ok(Parsed::Int(n))
        }
    }
}

fn default_of(p: &QueryParam) -> Parsed {
    match p.kind {
        ParamKind::Boolean => Parsed::Bool(p.default.as_bool().unwrap_or(false)),
        ParamKind::Integer => Parsed::Int(BigCount::from_u64(p.default.as_u64().unwrap_or(0))),
    }
}

/// Validates the parameters `op` declares, in the operation's order.
pub(crate) fn validate(op: &Operation, q: &RawQuery, wire: &Wire) -> Result<Params, ApiError> {
    let mut params = Params {
        page_num: BigCount::from_u64(1),
        items_per_page: 100,
        include_count: None,
        pretty: false,
        envelope: false,
    };
    for p in &op.query {
        let parsed = match q.first(&p.name) {
            Some(v) => parse_param(op, p, v, wire)?,
            None => default_of(p),
        };
        match (wire.query_role(&p.name), parsed) {
            (Some(QueryRole::PageNum), Parsed::Int(n)) => params.page_num = n,
            (Some(QueryRole::ItemsPerPage), Parsed::Int(n)) => params.items_per_page = n.value,
            (Some(QueryRole::IncludeCount), Parsed::Bool(b)) => params.include_count = Some(b),
            (Some(QueryRole::Pretty), Parsed::Bool(b)) => params.pretty = b,
            (Some(QueryRole::Envelope), Parsed::Bool(b)) => params.envelope = b,
            _ => {}
        }
    }
    Ok(params)
}

/// [`validate`], with the query faults of the reference server applied to the query first.
pub(crate) fn validate_with(
    op: &Operation,
    q: &RawQuery,
    faults: FaultSet,
    strict_integers: bool,
    wire: &Wire,
) -> Result<Params, ApiError> {
    super::reach::reads_page_params(op, q, faults, wire)?;
    let mut kept = Vec::with_capacity(q.0.len());
    let mut entries = q.0.clone();
    if faults.has(Fault::RepeatedParameterLastWins) {
        // Fault: a map filled in order, so a repeated parameter keeps its last value.
        entries.reverse();
    }
    for (name, value) in &entries {
        let declared = op.query_param(name);
        let role = wire.query_role(name);
        if faults.has(Fault::UnknownQueryParameterRefused) && role.is_none() {
            return Err(ApiError::of(
                &wire.codes,
                Some(op),
                Situation::InvalidQueryParameter,
                format!("Unknown query parameter {}.", quote_input(name)),
            )
            .params(vec![json!(quote_input(name))]));
        }
        let mut value = value.clone();
        match declared.map(|p| p.kind) {
            Some(ParamKind::Boolean)
                if faults.has(Fault::BooleansCaseInsensitive)
                    && matches!(role, Some(QueryRole::Pretty | QueryRole::Envelope)) =>
            {
                value = value.to_ascii_lowercase();
            }
            Some(ParamKind::Integer) => {
                let signed = value.starts_with('+') || (value.len() > 1 && value.starts_with('0'));
                if faults.has(Fault::SignedIntegersIgnored) && signed {
                    continue;
                }
                // Spaces around the digits: read as the number (an open reading, as a sign).
                let padded = value.trim() != value;
                // Variant: only plain digits without a leading zero are an integer.
                if strict_integers && (signed || padded) {
                    let p = declared.expect("declared");
                    return Err(reject(op, p, &value, "expected an integer", wire));
                }
                if padded {
                    value = value.trim().to_owned();
                }
                let past_i64 = parse_integer(&value)
                    .is_some_and(|(negative, n)| !negative && n.value > i64::MAX as u64);
                if faults.has(Fault::PageNumBoundedToI64)
                    && role == Some(QueryRole::PageNum)
                    && past_i64
                {
                    let p = declared.expect("declared");
                    return Err(reject(
                        op,
                        p,
                        &value,
                        "the maximum is 9223372036854775807",
                        wire,
                    ));
                }
            }
            _ => {}
        }
        kept.push((name.clone(), value));
    }
    validate(op, &RawQuery(kept), wire)
}

/// Variant `extra-link-parameters`: a link's query also carries `includeCount`, `pretty` and
/// `envelope` with their effective values (where the family's links do not already), and every
/// parameter of the request that `op` does not declare, echoed (first value, encoded again).
pub(crate) fn extra_link_parameters(
    link: &mut Vec<(String, Option<String>)>,
    params: &Params,
    q: &RawQuery,
    op: &Operation,
    wire: &Wire,
) {
    fn add(link: &mut Vec<(String, Option<String>)>, name: String, value: String) {
        if !name.is_empty() && !link.iter().any(|(k, _)| *k == name) {
            link.push((name, Some(value)));
        }
    }
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    for (role, value) in [
        (
            QueryRole::IncludeCount,
            params.include_count.unwrap_or(true),
        ),
        (QueryRole::Pretty, params.pretty),
        (QueryRole::Envelope, params.envelope),
    ] {
        let name = wire.query(role);
        add(link, name.to_owned(), value.to_string());
    }
    for (name, value) in &q.0 {
        if op.query_param(name).is_none() {
            add(link, encode(name), encode(value));
        }
    }
}

/// The default `itemsPerPage` of an operation (for the `items-per-page-ignored` fault).
pub(crate) fn default_items_per_page(op: &Operation, wire: &Wire) -> u64 {
    op.query_param(wire.query(QueryRole::ItemsPerPage))
        .and_then(|p| p.default.as_u64())
        .unwrap_or(100)
}

/// For tests: a JSON view of the parameters.
#[cfg(test)]
fn as_json(p: &Params) -> Value {
    json!([
        p.page_num.digits,
        p.items_per_page,
        p.include_count,
        p.pretty,
        p.envelope
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{self, OperationKind};

    fn run(family: &str, kind: OperationKind, q: &str) -> Result<Value, (u16, String)> {
        let m = model::bundled().unwrap();
        let op = m.family(family).unwrap().operation(kind).clone();
        validate(&op, &RawQuery::parse(Some(q)), &m.wire)
            .map(|p| as_json(&p))
            .map_err(|e| (e.status.as_u16(), e.code.clone()))
    }

    #[test]
    fn defaults_and_values() {
        use OperationKind::*;
        assert_eq!(
            run("atlas-v2", List, ""),
            Ok(json!(["1", 100, true, false, false]))
        );
        assert_eq!(
            run("cloud-manager", List, "includeCount=false"),
            Ok(json!(["1", 100, null, false, false]))
        );
        assert_eq!(
            run(
                "atlas-v1",
                Create,
                "pageNum=02&itemsPerPage=500&includeCount=false&pretty=true&envelope=true&x=y"
            ),
            Ok(json!(["2", 500, false, true, true]))
        );
        assert_eq!(
            run("atlas-v2", List, "pageNum=123456789012345678901234567890"),
            Ok(json!([
                "123456789012345678901234567890",
                100,
                true,
                false,
                false
            ]))
        );
        // first value wins
        assert_eq!(
            run("atlas-v2", List, "pageNum=3&pageNum=x"),
            Ok(json!(["3", 100, true, false, false]))
        );
        // get ignores page parameters, even invalid ones
        assert_eq!(
            run(
                "atlas-v2",
                Get,
                "pageNum=x&itemsPerPage=0&includeCount=maybe"
            ),
            Ok(json!(["1", 100, null, false, false]))
        );
    }

    #[test]
    fn invalid_values() {
        use OperationKind::*;
        for q in [
            "pageNum=0",
            "pageNum=-1",
            "pageNum=1.5",
            "pageNum=",
            "pageNum=abc",
            "itemsPerPage=0",
            "itemsPerPage=501",
            "itemsPerPage=99999999999999999999999",
            "includeCount=TRUE",
            "includeCount=1",
            "pretty=yes",
            "envelope=",
        ] {
            assert_eq!(
                run("atlas-v2", List, q),
                Err((400, "INVALID_QUERY_PARAMETER".to_owned())),
                "{q}"
            );
        }
        assert!(run("atlas-v2", Delete, "pretty=True").is_err());
        assert!(run("cloud-manager", Get, "envelope=no").is_err());
    }

    #[test]
    fn pred_handles_big_numbers() {
        assert_eq!(BigCount::from_u64(5).pred().digits, "4");
        assert_eq!(BigCount::from_u64(1).pred().digits, "0");
        let (_, big) = parse_integer("100000000000000000000").unwrap();
        assert_eq!(big.pred().digits, "99999999999999999999");
        let (_, big) = parse_integer("18446744073709551616").unwrap();
        assert_eq!(big.pred().digits, "18446744073709551615");
        assert_eq!(big.pred().value, u64::MAX);
    }
}
