//! Request media-type cases (contract section 9): a `Content-Type` is compared by type and
//! subtype, case-insensitively, and its parameters are ignored, so `application/json;
//! charset=UTF-8` and `Application/JSON` are JSON (atlas-v2's versioned types too).

use super::values::{self, Fill};
use super::{Case, Category, Ctx, Expect, Role};
use crate::model::OperationKind;

pub(super) fn generate(cx: &Ctx<'_>, out: &mut Vec<Case>) {
    let kind = OperationKind::Create;
    let version = cx.default_version();
    let Some(ty) = version.types.first() else {
        return;
    };
    let media_types = std::iter::once(&version.media_type)
        .chain(cx.family.extra_request_content_types.iter())
        .collect::<Vec<_>>();
    for media in media_types {
        let slug = media.replace(['/', '+', '.'], "-");
        for (label, sent) in [
            ("with-charset", format!("{media}; charset=UTF-8")),
            ("mixed-case", mixed_case(media)),
        ] {
            let s = cx.vs(version, &format!("content-type-{slug}-{label}"));
            let body = values::valid_body(ty, &cx.id(kind, &s), Fill::Minimal);
            let title = format!("Content-Type {sent} is {media}: the create is accepted");
            let header = sent.clone();
            let mut case = super::Subject::new(cx, version, ty, kind)
                .case(&s, Category::Validation, title)
                .accepts(body, None, move |r| r.with_content_type(Some(&header)));
            if let Some(test) = case.steps.iter_mut().find(|s| s.role == Role::Test) {
                test.expect.push(Expect::MediaType {
                    media_type: version.media_type.clone(),
                });
            }
            out.push(case);
        }
    }
}

/// The type with a capital first letter and the subtype in capitals: `Application/JSON`.
fn mixed_case(media: &str) -> String {
    let (ty, sub) = media.split_once('/').unwrap_or((media, ""));
    let mut chars = ty.chars();
    let ty: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    format!("{ty}/{}", sub.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::mixed_case;

    #[test]
    fn mixed_case_changes_letters_only() {
        assert_eq!(mixed_case("application/json"), "Application/JSON");
        assert_eq!(
            mixed_case("application/vnd.atlas.2025-03-12+json"),
            "Application/VND.ATLAS.2025-03-12+JSON"
        );
    }
}
