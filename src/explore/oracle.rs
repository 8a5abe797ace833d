//! The oracle: the faithful reference server in process (requests go through its router, no
//! socket), and what its answer makes of a step: the expectations the target's answer is judged
//! by, at the level of the rule that applies, and the map between the ids each side assigned.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, HOST};
use http::Method;
use serde_json::Value;
use url::Url;

use crate::auth::AuthSpec;
use crate::case::{Case, Expect, Request, Role, Step};
use crate::check;
use crate::error::Result;
use crate::exchange::Exchange;
use crate::model::{ErrorRule, Family, Level, Model, ParamKind, Situation, Wire};
use crate::outcome::Outcome;
use crate::scrub::Scrubber;
use crate::sender::{self, Keyring, Sender, Transport};
use crate::server::{self, ServerConfig, ServerState};
use crate::transport::{self, Answer, Sent, Target};

use super::gen::Call;

/// The faithful reference server, in process: requests go through its router, no socket.
pub(crate) struct Oracle {
    pub(crate) state: Arc<ServerState>,
    /// Its projects and credentials, as a target (the base URL is never dialled).
    pub(crate) target: Target,
    /// Sends through the router, in process.
    sender: Sender<InProcess>,
    keys: Keyring,
}

impl Oracle {
    pub(crate) fn new(model: Model) -> Result<Oracle> {
        let state = Arc::new(ServerState::with_model(ServerConfig::default(), model)?);
        let app = server::app(state.clone());
        let creds = state.credentials().clone();
        let target = Target {
            base_url: transport::parse_base_url("http://oracle.invalid")?,
            atlas_group_id: Some(creds.atlas_group_id.clone()),
            cm_group_id: Some(creds.cm_group_id.clone()),
            other_group_id: Some(creds.other_group_id.clone()),
            auth: AuthSpec::Digest {
                public: creds.owner.public.clone(),
                private: creds.owner.private.clone(),
            },
            read_only: Some(AuthSpec::Digest {
                public: creds.read_only.public.clone(),
                private: creds.read_only.private.clone(),
            }),
            token_expirer: None,
            expired_token: None,
            nonce_expirer: None,
            oauth_client: None,
            insecure: false,
            use_env_proxy: false,
            gateway: Default::default(),
        };
        // Digest needs no client; an authenticator asks for one all the same.
        let client = target.client(Duration::from_secs(10), 4 << 20)?;
        let sender = Sender::with_transport(
            target.clone(),
            InProcess(app),
            client,
            sender::Options::default(),
        );
        Ok(Oracle {
            keys: sender.keyring(),
            state,
            target,
            sender,
        })
    }

    /// One request to the oracle, answered in process.
    pub(crate) async fn send(
        &self,
        family: &Family,
        step: &Step,
        index: usize,
        scrubber: &Scrubber,
    ) -> Exchange {
        self.sender
            .send(&self.keys, family, step, index, scrubber)
            .await
    }
}

/// The oracle's router, called in process: no socket, no timeout.
struct InProcess(axum::Router);

impl Transport for InProcess {
    fn deliver(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        _deadline: Option<Instant>,
    ) -> impl Future<Output = Sent> + Send {
        use http_body_util::BodyExt as _;
        use tower_service::Service as _;
        let mut headers = headers.clone();
        headers.insert(HOST, HeaderValue::from_static("oracle.invalid"));
        if let Some(b) = body {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
        }
        let uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut req = http::Request::new(axum::body::Body::from(body.cloned().unwrap_or_default()));
        *req.method_mut() = method.clone();
        *req.headers_mut() = headers.clone();
        let parsed = uri.parse().map(|u| *req.uri_mut() = u);
        let mut app = self.0.clone();
        async move {
            if let Err(e) = parsed {
                return Sent {
                    headers,
                    answer: Err(format!("bad URI: {e}")),
                };
            }
            let response = match app.call(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let (body, error) = match body.collect().await {
                Ok(c) => (c.to_bytes().to_vec(), None),
                Err(e) => (Vec::new(), Some(e.to_string())),
            };
            Sent {
                headers,
                answer: Ok(Answer {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                    truncated: false,
                    error,
                }),
            }
        }
    }
}

pub(crate) fn test_step(request: Request) -> Step {
    Step {
        role: Role::Test,
        request,
        expect: Vec::new(),
        baseline: None,
    }
}

pub(super) fn outcome(case: &Case, ex: Exchange, warnings: Vec<check::Warning>) -> Outcome {
    Outcome::judged(case, Vec::new(), warnings, vec![ex], Duration::ZERO)
}

fn strictness(level: Level) -> u8 {
    match level {
        Level::C => 0,
        Level::S => 1,
        Level::E => 2,
    }
}

/// What the target must answer, from the oracle's answer: its success status, or the row of
/// the error catalogue it applied (the call's intended situation where several rows share a
/// status and errorCode; else the one whose parameters have the same shape; else the least
/// strict, so that the comparison is never stricter than the contract).
pub(crate) fn expectation(
    model: &Model,
    family: &Family,
    request: &Request,
    call: &Call,
    resp: &crate::exchange::Response,
) -> Vec<Expect> {
    if (200..300).contains(&resp.status) {
        if let Some(rule) = open_integer_reading(family, request) {
            // `+1` or `01`: the reference model reads 1, a target may refuse (a tolerated
            // reading, spec/README.md choice 22).
            return vec![Expect::Either {
                status: resp.status,
                rule,
            }];
        }
        return vec![Expect::Status {
            status: resp.status,
        }];
    }
    let wire = &model.wire;
    let json = resp
        .json()
        .map(|v| match v.get(&wire.envelope.content) {
            Some(c) if v.get(&wire.list.results).is_none() => c.clone(),
            _ => v,
        })
        .unwrap_or(Value::Null);
    let code = json.get(&wire.error.code).and_then(Value::as_str);
    let params: Vec<&str> = json
        .get(&wire.error.parameters)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let op = family.operations.iter().find(|o| o.id == request.operation);
    let rules: Vec<&ErrorRule> = op
        .map(|o| o.errors.iter())
        .into_iter()
        .flatten()
        .chain(model.unmatched.iter())
        .filter(|r| r.status == resp.status)
        .collect();
    let intent = call.situation();
    let coded: Vec<&ErrorRule> = rules
        .iter()
        .copied()
        .filter(|r| code.is_some() && r.error_code.as_deref() == code)
        .collect();
    let shape = |r: &ErrorRule| match r.parameters.as_slice() {
        [p] if p == "{field}" => params.len() == 1 && params[0] != wire.discriminator,
        [p] => params == [p.as_str()],
        _ => true,
    };
    let least = |rs: Vec<&ErrorRule>| -> Option<ErrorRule> {
        rs.into_iter().min_by_key(|r| strictness(r.level)).cloned()
    };
    let rule = coded
        .iter()
        .find(|r| Some(r.situation) == intent)
        .map(|r| (*r).clone())
        .or_else(|| least(coded.iter().copied().filter(|r| shape(r)).collect()))
        // A row without an errorCode (level S or C) that the call meant to meet.
        .or_else(|| {
            rules
                .iter()
                .find(|r| r.error_code.is_none() && Some(r.situation) == intent)
                .map(|r| (*r).clone())
        })
        .or_else(|| least(coded.clone()))
        .or_else(|| {
            least(
                rules
                    .iter()
                    .copied()
                    .filter(|r| r.error_code.is_none())
                    .collect(),
            )
        });
    let Some(rule) = rule else {
        return Vec::new();
    };
    let field = if rule.parameters.iter().any(|p| p == "{field}") {
        match (&call.field, Some(rule.situation) == intent) {
            (Some(f), true) => Some(f.clone()),
            _ => params.first().map(|p| (*p).to_owned()),
        }
    } else {
        None
    };
    // Missing or wrong credentials: the 401 carries a challenge (contract section 5).
    let challenge = rule.situation == Situation::Unauthenticated && resp.status == 401;
    let mut expect = vec![Expect::Error { rule, field }];
    if challenge {
        expect.push(Expect::Challenge { stale: false });
    }
    expect
}

/// The invalid-query row of the request's operation when one of its integer parameters is
/// spelt with a sign, a leading zero or spaces around it (`+1`, `01`, ` 2`): the contract
/// leaves that reading open.
fn open_integer_reading(family: &Family, request: &Request) -> Option<ErrorRule> {
    let op = family
        .operations
        .iter()
        .find(|o| o.id == request.operation)?;
    let open = request.query.iter().any(|(k, v)| {
        let integer = op
            .query
            .iter()
            .any(|q| q.name == *k && q.kind == ParamKind::Integer);
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        // Spaces around a number are read or refused alike.
        let padded = v.trim() != v && digits(v.trim());
        integer
            && (v.strip_prefix('+').is_some_and(digits)
                || v.len() > 1 && v.starts_with('0') && digits(v)
                || padded)
    });
    if !open {
        return None;
    }
    op.errors
        .iter()
        .find(|r| r.situation == Situation::InvalidQueryParameter)
        .cloned()
}

/// Assigned ids, mapped between the oracle and the target: when the oracle shows an id it
/// showed before, the target must show the id it paired with it then.
#[derive(Default)]
pub(super) struct IdMap {
    oracle_to_target: HashMap<String, String>,
    target_to_oracle: HashMap<String, String>,
}

fn ids_by_type(wire: &Wire, v: &Value) -> BTreeMap<String, String> {
    let v = match v.get(&wire.envelope.content) {
        Some(c) if c.is_object() => c,
        _ => v,
    };
    let objects: Vec<&Value> = match v.get(&wire.list.results).and_then(Value::as_array) {
        Some(items) => items.iter().collect(),
        None => vec![v],
    };
    objects
        .into_iter()
        .filter_map(|o| {
            Some((
                o.get(&wire.discriminator)?.as_str()?.to_owned(),
                o.get(&wire.id)?.as_str()?.to_owned(),
            ))
        })
        .collect()
}

impl IdMap {
    pub(super) fn check(&mut self, wire: &Wire, oracle: &Value, target: &Value) -> Option<String> {
        let theirs = ids_by_type(wire, target);
        for (type_name, oid) in ids_by_type(wire, oracle) {
            let Some(tid) = theirs.get(&type_name) else {
                continue;
            };
            match self.oracle_to_target.get(&oid) {
                Some(prev) if prev != tid => {
                    return Some(format!(
                        "the id of {type_name} changed: the reference model still shows the id it assigned before"
                    ))
                }
                Some(_) => {}
                None => {
                    if let Some(old) = self.target_to_oracle.insert(tid.clone(), oid.clone()) {
                        self.oracle_to_target.remove(&old);
                    }
                    self.oracle_to_target.insert(oid, tid.clone());
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{Body, Credential, Project};
    use crate::model::OperationKind;

    /// A credential the oracle cannot make fails the step: the request is not sent without it
    /// (the oracle would answer 401, and the target's answer would be judged by that).
    #[tokio::test]
    async fn an_authentication_error_is_an_error_not_an_unsigned_request() {
        let model = crate::model::bundled().unwrap();
        let mut oracle = Oracle::new(model.clone()).unwrap();
        let family = &model.families[0];
        let list = family.operation(OperationKind::List);
        let version = family.versions.last().unwrap();
        let step = test_step(Request {
            method: list.method.clone(),
            project: Project::Own,
            path: "/integrations".into(),
            base_path: family.base_path.clone(),
            query: Vec::new(),
            accept: Some(version.media_type.clone()),
            content_type: None,
            body: Body::None,
            credential: Credential::Owner,
            operation: list.id.clone(),
            version: version.name.clone(),
        });
        let scrubber = Scrubber::new(oracle.target.secrets());
        let ex = oracle.send(family, &step, 0, &scrubber).await;
        assert_eq!(ex.response.map(|r| r.status), Some(200), "{:?}", ex.error);

        let unusable = Target {
            auth: AuthSpec::Bearer {
                token: "not\na header value".into(),
            },
            ..oracle.target.clone()
        };
        let client = unusable.client(Duration::from_secs(1), 1024).unwrap();
        oracle.keys = Sender::new(unusable, client, sender::Options::default()).keyring();
        let sent = oracle.sender.requests();
        let ex = oracle.send(family, &step, 0, &scrubber).await;
        assert_eq!(
            ex.response.map(|r| r.status),
            None,
            "the request went out without its credentials"
        );
        assert_eq!(oracle.sender.requests(), sent, "nothing was sent");
        let error = ex.error.unwrap_or_default();
        assert!(
            error.starts_with("auth: ") && error.contains("not a valid header value"),
            "{error}"
        );
    }
}
