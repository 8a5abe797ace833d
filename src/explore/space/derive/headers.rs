//! The headers (`Accept`, `Content-Type`), the credential and the body's JSON kind.

use super::{Out, Rows};
use crate::explore::gen::Who;
use crate::explore::space::{Edit, Kind, Reach};
use crate::model::{Model, OperationKind, Situation};

/// `Accept` in all its grammar: on a versioned family only the versions' media types count
/// (q-values honoured); a v1.0 family ignores it.
pub(super) fn accept(out: &mut Out<'_>) {
    let f = out.family;
    let part = "header Accept";
    if !f.versioned() {
        accept_unversioned(out);
        return;
    }
    let dated: Vec<&str> = f.versions.iter().map(|v| v.media_type.as_str()).collect();
    for v in &f.versions {
        let m = v.media_type.as_str();
        // Two supported versions are never listed with the same q: which one wins a tie is
        // not the contract's to say.
        let other = dated.iter().find(|d| **d != m).copied().unwrap_or(m);
        let unknown_date = m.replace(v.name.as_deref().unwrap_or_default(), "2020-01-01");
        let scope = out.scope(Some(v), None, None);
        let mut rows = Rows::new(out, part, scope);
        let picks = "6.accept-picks-version";
        let q = "8.accept-q-values";
        let wild = "8.accept-wildcard";
        let version = "5.accept-version";
        let no = Some(Situation::UnsupportedVersion);
        let a = |s: String| Edit::Accept(Some(s));
        rows.add(Kind::Valid, "as written", a(m.into()), picks, None);
        rows.add(
            Kind::Case,
            "upper case",
            a(m.to_ascii_uppercase()),
            picks,
            None,
        );
        rows.add(
            Kind::Valid,
            "a parameter",
            a(format!("{m};charset=utf-8")),
            picks,
            None,
        );
        rows.add(
            Kind::Valid,
            "after another type",
            a(format!("application/json, {m}")),
            picks,
            None,
        );
        rows.add(
            Kind::Whitespace,
            "spaces around items",
            a(format!("text/html , {m} ")),
            picks,
            None,
        );
        rows.add(
            Kind::Valid,
            "after another, no space",
            a(format!("text/html,{m}")),
            picks,
            None,
        );
        rows.add(
            Kind::Valid,
            "beside */*",
            a(format!("*/*, {m}")),
            picks,
            None,
        );
        rows.add(Kind::Boundary, "q=1", a(format!("{m};q=1")), q, None);
        rows.add(
            Kind::Boundary,
            "q=0.001",
            a(format!("{m};q=0.001")),
            q,
            None,
        );
        rows.add(
            Kind::Valid,
            "preferred by q",
            a(format!("{other};q=0.4, {m};q=0.8")),
            q,
            None,
        );
        rows.add(Kind::Boundary, "q=0", a(format!("{m};q=0")), q, no);
        rows.add(
            Kind::Boundary,
            "q=0 beside another",
            a(format!("{m};q=0, application/json")),
            q,
            no,
        );
        rows.add(Kind::Foreign, "*/*", a("*/*".into()), wild, no);
        rows.add(
            Kind::Foreign,
            "application/*",
            a("application/*".into()),
            wild,
            no,
        );
        rows.add(Kind::Foreign, "another date", a(unknown_date), version, no);
        rows.add(
            Kind::Foreign,
            "application/json",
            a("application/json".into()),
            version,
            no,
        );
        rows.add(Kind::Absent, "absent", Edit::Accept(None), version, no);
        rows.add(Kind::Empty, "empty", a(String::new()), version, no);
        rows.add(Kind::Malformed, "garbage", a("garbage".into()), version, no);
    }
}

/// A v1.0 family answers JSON whatever `Accept` says.
fn accept_unversioned(out: &mut Out<'_>) {
    let f = out.family;
    let part = "header Accept";
    let scope = out.scope(f.versions.first(), None, None);
    let mut rows = Rows::new(out, part, scope);
    let ignored = "6.v1-ignores-accept";
    let dated = "application/vnd.atlas.2023-01-01+json";
    rows.add(Kind::Absent, "absent", Edit::Accept(None), ignored, None);
    rows.add(
        Kind::Foreign,
        "a dated media type",
        accept_of(dated),
        ignored,
        None,
    );
    rows.add(
        Kind::Malformed,
        "garbage",
        accept_of("garbage"),
        ignored,
        None,
    );
    rows.add(Kind::Valid, "*/*", accept_of("*/*"), ignored, None);
}

fn accept_of(s: &str) -> Edit {
    Edit::Accept(Some(s.to_owned()))
}

/// The request `Content-Type` of create and update.
pub(super) fn content_type(out: &mut Out<'_>, model: &Model) {
    let f = out.family;
    let foreign: Option<String> = model
        .families
        .iter()
        .flat_map(|g| g.versions.iter().map(|v| v.media_type.clone()))
        .find(|m| {
            !f.versions.iter().any(|v| &v.media_type == m)
                && !f.extra_request_content_types.contains(m)
        });
    for op in [OperationKind::Create, OperationKind::Update] {
        for v in &f.versions {
            let m = v.media_type.as_str();
            let scope = out.scope(Some(v), Some(op), None);
            let mut rows = Rows::new(out, "header Content-Type", scope);
            let ct = |s: &str| Edit::ContentType(Some(s.to_owned()));
            let (ok, rule) = ("9.media-type-parameters", "5.content-type");
            let no = Some(Situation::UnsupportedMediaType);
            rows.add(Kind::Valid, "as written", ct(m), rule, None);
            rows.add(
                Kind::Case,
                "upper case",
                ct(&m.to_ascii_uppercase()),
                ok,
                None,
            );
            rows.add(
                Kind::Valid,
                "a charset",
                ct(&format!("{m}; charset=UTF-8")),
                ok,
                None,
            );
            rows.add(Kind::Absent, "absent", Edit::ContentType(None), rule, no);
            rows.add(Kind::Empty, "empty", ct(""), rule, no);
            rows.add(Kind::Malformed, "text/plain", ct("text/plain"), rule, no);
            rows.add(
                Kind::Malformed,
                "a form",
                ct("application/x-www-form-urlencoded"),
                rule,
                no,
            );
            for o in f.versions.iter().filter(|o| o.media_type != m) {
                let either = "8.content-type-either-version";
                rows.add(
                    Kind::Foreign,
                    "the other version",
                    ct(&o.media_type),
                    either,
                    None,
                );
            }
            for extra in &f.extra_request_content_types {
                rows.add(Kind::Valid, &format!("{extra} too"), ct(extra), rule, None);
            }
            if let Some(fm) = &foreign {
                rows.add(
                    Kind::Foreign,
                    "another family's media type",
                    ct(fm),
                    rule,
                    no,
                );
            }
            if let Some(date) = &v.name {
                let other = m.replace(date, "2020-01-01");
                rows.add(Kind::Foreign, "another date", ct(&other), rule, no);
            }
        }
    }
}

/// The credentials: each kind the target offers, none, wrong, forged, malformed, and a scheme
/// the contract does not name.
pub(super) fn credentials(out: &mut Out<'_>, reach: &Reach) {
    let no = Some(Situation::Unauthenticated);
    let rule = "5.unauthenticated";
    let c = Edit::Credential;
    let scope = out.scope(None, None, None);
    let mut rows = Rows::new(out, "credential", scope);
    rows.add(Kind::Absent, "none", c(Who::None), rule, no);
    rows.add(
        Kind::Foreign,
        "a bearer token never issued",
        c(Who::BadBearer),
        rule,
        no,
    );
    rows.add(
        Kind::Malformed,
        "a malformed digest",
        c(Who::MalformedDigest),
        rule,
        no,
    );
    rows.add(
        Kind::Foreign,
        "an unnamed scheme",
        c(Who::UnnamedScheme),
        rule,
        no,
    );
    if reach.digest {
        rows.add(
            Kind::Malformed,
            "a wrong password",
            c(Who::WrongPassword),
            rule,
            no,
        );
        let forged = "7.forged-nonce";
        rows.add(
            Kind::Foreign,
            "a nonce never issued",
            c(Who::ForgedNonce),
            forged,
            no,
        );
        let uri = Some(Situation::DigestUriMismatch);
        let other = c(Who::OtherUri);
        rows.add(
            Kind::Foreign,
            "a digest for another uri",
            other,
            "7.digest-uri",
            uri,
        );
        // Sent twice, and the first one counts: only reads repeat it.
        for op in [OperationKind::List, OperationKind::Get] {
            rows.scope.op = Some(op);
            let replay = c(Who::ReplayedNonceCount);
            rows.add(
                Kind::Repeated,
                "a replayed nonce count",
                replay,
                "7.replayed-nc",
                no,
            );
        }
        rows.scope.op = None;
    }
    if reach.read_only {
        for op in OperationKind::ALL {
            rows.scope.op = Some(op);
            if op.writes() {
                let refused = Some(Situation::ReadOnlyWrite);
                let rule = "5.read-only-refused";
                rows.add(Kind::Foreign, "read-only", c(Who::ReadOnly), rule, refused);
            } else {
                rows.add(
                    Kind::Valid,
                    "read-only",
                    c(Who::ReadOnly),
                    "7.read-only-role",
                    None,
                );
            }
        }
    }
}

/// The body's JSON kind and syntax.
pub(super) fn body_kinds(out: &mut Out<'_>) {
    let malformed = Some(Situation::MalformedJson);
    let not_object = Some(Situation::BodyNotObject);
    for op in [OperationKind::Create, OperationKind::Update] {
        let scope = out.scope(None, Some(op), None);
        let mut rows = Rows::new(out, "body", scope);
        let raw = |s: &str| Edit::Raw(s.to_owned());
        let (empty, bad, shape) = ("8.empty-body", "5.malformed-json", "5.invalid-json");
        rows.add(Kind::Empty, "no bytes", raw(""), empty, malformed);
        rows.add(
            Kind::Whitespace,
            "only whitespace",
            raw(" \n "),
            empty,
            malformed,
        );
        let around = raw(" \n{body}\n ");
        rows.add(
            Kind::Whitespace,
            "whitespace around",
            around,
            "1.create-operation",
            None,
        );
        rows.add(
            Kind::Malformed,
            "truncated",
            raw("{truncated}"),
            bad,
            malformed,
        );
        rows.add(
            Kind::Malformed,
            "NaN",
            raw("{nan}"),
            "8.nan-infinity",
            malformed,
        );
        rows.add(
            Kind::Repeated,
            "two objects",
            raw("{body} {body}"),
            bad,
            malformed,
        );
        rows.add(
            Kind::Foreign,
            "an array",
            raw("[{body}]"),
            shape,
            not_object,
        );
        rows.add(
            Kind::Foreign,
            "a string",
            raw("\"{type}\""),
            shape,
            not_object,
        );
        rows.add(Kind::Foreign, "a number", raw("42"), shape, not_object);
        rows.add(Kind::Foreign, "null", raw("null"), shape, not_object);
    }
}
