//! The wire vocabulary: the names of the list wrapper, the link objects, the page, envelope and
//! `pretty` query parameters, the envelope wrapper, the error body and the body discriminator,
//! read from the spec where it defines them, so no later stage spells an API name.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{invalid, ErrorCodes, ErrorRule, Family, OperationKind};
use crate::error::Result;
use crate::spec::{deref, resolve_ref};

/// The error body schema.
pub(super) const ERROR_SCHEMA: &str = "#/components/schemas/ApiError";
/// The link object schema (the items of a page's links array).
const LINK_SCHEMA: &str = "#/components/schemas/Link";
/// The query parameters, by their component key.
const PAGE_NUM: &str = "#/components/parameters/PageNum";
const ITEMS_PER_PAGE: &str = "#/components/parameters/ItemsPerPage";
const INCLUDE_COUNT: &str = "#/components/parameters/IncludeCount";
const PRETTY: &str = "#/components/parameters/Pretty";
const ENVELOPE: &str = "#/components/parameters/Envelope";

/// Every API name the case generator, the checks and the runner need besides the integration
/// types and their fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wire {
    /// The list body: the page of items, its links and the total count.
    pub list: ListNames,
    /// The link objects in a list body.
    pub link: LinkNames,
    /// The page query parameters.
    pub page: PageParams,
    /// The envelope query parameter and the fields of its wrapper.
    pub envelope: EnvelopeNames,
    /// The pretty-print query parameter.
    pub pretty: String,
    /// The error body's fields.
    pub error: ErrorNames,
    /// The property that names an integration's type in every body.
    pub discriminator: String,
    /// The read-only property that holds an integration's server-assigned id in every body.
    pub id: String,
    /// The path parameter that names an integration's type.
    pub type_param: String,
    /// Each situation's status and `errorCode` where an operation's catalogue row gives none:
    /// from the spec's catalogues ([`ErrorCodes`]).
    #[serde(skip)]
    pub codes: ErrorCodes,
}

/// The page and format query parameters, by what each does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryRole {
    PageNum,
    ItemsPerPage,
    IncludeCount,
    Pretty,
    Envelope,
}

impl QueryRole {
    pub const ALL: [QueryRole; 5] = [
        QueryRole::PageNum,
        QueryRole::ItemsPerPage,
        QueryRole::IncludeCount,
        QueryRole::Pretty,
        QueryRole::Envelope,
    ];
}

impl Wire {
    /// The wire name of a page or format query parameter.
    pub fn query(&self, role: QueryRole) -> &str {
        match role {
            QueryRole::PageNum => &self.page.page_num,
            QueryRole::ItemsPerPage => &self.page.items_per_page,
            QueryRole::IncludeCount => &self.page.include_count,
            QueryRole::Pretty => &self.pretty,
            QueryRole::Envelope => &self.envelope.param,
        }
    }

    /// What the query parameter `name` does, if it is one of the page or format parameters.
    pub fn query_role(&self, name: &str) -> Option<QueryRole> {
        QueryRole::ALL.into_iter().find(|&r| self.query(r) == name)
    }
}

/// The fields of a list body (every page schema of every list operation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListNames {
    pub results: String,
    pub links: String,
    pub total_count: String,
}

/// The fields and relations of a link object (`x-link` on the link schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkNames {
    pub rel: String,
    pub href: String,
    pub this_page: String,
    pub next: String,
    pub previous: String,
}

/// The page query parameters (`components.parameters`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageParams {
    pub page_num: String,
    pub items_per_page: String,
    pub include_count: String,
}

/// The envelope parameter and its wrapper fields (`x-envelope` on the parameter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeNames {
    pub param: String,
    pub status: String,
    pub content: String,
}

/// The error body's fields (`x-error-fields` on the error schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorNames {
    /// The HTTP status repeated as a number.
    pub status: String,
    pub code: String,
    pub detail: String,
    pub reason: String,
    pub parameters: String,
}

/// Read the vocabulary from the spec; `families` are the built families (for the page schemas,
/// the discriminator and, with the `unmatched` rows, the error codes).
pub(super) fn build(raw: &Value, families: &[Family], unmatched: &[ErrorRule]) -> Result<Wire> {
    let envelope = node(raw, ENVELOPE)?;
    let wrapper = ext(envelope, "x-envelope", ENVELOPE)?;
    let error_schema = node(raw, ERROR_SCHEMA)?;
    let error = ext(error_schema, "x-error-fields", ERROR_SCHEMA)?;
    let link_schema = node(raw, LINK_SCHEMA)?;
    let link = ext(link_schema, "x-link", LINK_SCHEMA)?;
    Ok(Wire {
        list: list_names(raw, families)?,
        link: LinkNames {
            rel: property(link_schema, link, "rel", LINK_SCHEMA)?,
            href: property(link_schema, link, "href", LINK_SCHEMA)?,
            this_page: role(link, "self", LINK_SCHEMA)?,
            next: role(link, "next", LINK_SCHEMA)?,
            previous: role(link, "previous", LINK_SCHEMA)?,
        },
        page: PageParams {
            page_num: param_name(raw, PAGE_NUM)?,
            items_per_page: param_name(raw, ITEMS_PER_PAGE)?,
            include_count: param_name(raw, INCLUDE_COUNT)?,
        },
        envelope: EnvelopeNames {
            param: param_name(raw, ENVELOPE)?,
            status: role(wrapper, "status", ENVELOPE)?,
            content: role(wrapper, "content", ENVELOPE)?,
        },
        pretty: param_name(raw, PRETTY)?,
        error: ErrorNames {
            status: property(error_schema, error, "status", ERROR_SCHEMA)?,
            code: property(error_schema, error, "code", ERROR_SCHEMA)?,
            detail: property(error_schema, error, "detail", ERROR_SCHEMA)?,
            reason: property(error_schema, error, "reason", ERROR_SCHEMA)?,
            parameters: property(error_schema, error, "parameters", ERROR_SCHEMA)?,
        },
        discriminator: discriminator(families)?,
        id: id_field(families)?,
        type_param: super::TYPE_PARAM.to_owned(),
        codes: ErrorCodes::of(families, unmatched),
    })
}

fn node<'a>(raw: &'a Value, pointer: &str) -> Result<&'a Value> {
    resolve_ref(raw, pointer).ok_or_else(|| {
        invalid(format!(
            "{pointer} is missing (the wire vocabulary reads it)"
        ))
    })
}

fn ext<'a>(node: &'a Value, key: &str, at: &str) -> Result<&'a Map<String, Value>> {
    node.get(key).and_then(Value::as_object).ok_or_else(|| {
        invalid(format!(
            "{at} has no {key} map (the wire vocabulary reads it)"
        ))
    })
}

fn role(map: &Map<String, Value>, role: &str, at: &str) -> Result<String> {
    map.get(role)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("{at}: the wire name for {role} is missing")))
}

/// A role's name that must also be a property of the schema it describes.
fn property(schema: &Value, map: &Map<String, Value>, name: &str, at: &str) -> Result<String> {
    let value = role(map, name, at)?;
    if schema.pointer(&format!("/properties/{value}")).is_none() {
        return Err(invalid(format!(
            "{at}: the wire name for {name} is {value}, which is not one of its properties"
        )));
    }
    Ok(value)
}

fn param_name(raw: &Value, pointer: &str) -> Result<String> {
    node(raw, pointer)?
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("{pointer} has no name")))
}

/// The list wrapper from every list operation's success schemas: the array of links (its items
/// are the link schema), the array of results (any other array) and the integer total count.
/// Every page schema must agree.
fn list_names(raw: &Value, families: &[Family]) -> Result<ListNames> {
    let mut found: Option<ListNames> = None;
    for family in families {
        let list = family.operation(OperationKind::List);
        let ok = list
            .response(list.success_status)
            .ok_or_else(|| invalid(format!("operation {}: no success response", list.id)))?;
        for (_, pointer) in &ok.content {
            let names = page_names(raw, pointer)?;
            match &found {
                Some(seen) if *seen != names => {
                    return Err(invalid(format!(
                        "page schema {pointer} names its fields unlike the other page schemas"
                    )))
                }
                _ => found = Some(names),
            }
        }
    }
    found.ok_or_else(|| invalid("no list operation has a page schema (the wire vocabulary)"))
}

fn page_names(raw: &Value, pointer: &str) -> Result<ListNames> {
    let props = node(raw, pointer)?
        .get("properties")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid(format!("page schema {pointer} has no properties")))?;
    let (mut results, mut links, mut total_count) = (None, None, None);
    for (name, prop) in props {
        let prop = deref(raw, prop);
        let is_link = prop.pointer("/items/$ref").and_then(Value::as_str) == Some(LINK_SCHEMA);
        let slot = match prop.get("type").and_then(Value::as_str) {
            Some("array") if is_link => &mut links,
            Some("array") => &mut results,
            Some("integer") => &mut total_count,
            _ => continue,
        };
        if slot.replace(name.clone()).is_some() {
            return Err(invalid(format!(
                "page schema {pointer}: two properties could be the same list field ({name})"
            )));
        }
    }
    let missing = |what: &str| invalid(format!("page schema {pointer} has no {what} property"));
    Ok(ListNames {
        results: results.ok_or_else(|| missing("results (an array of items)"))?,
        links: links.ok_or_else(|| missing("links (an array of the link schema)"))?,
        total_count: total_count.ok_or_else(|| missing("total count (an integer)"))?,
    })
}

/// The discriminator property, which every integration type of every family shares.
fn discriminator(families: &[Family]) -> Result<String> {
    let mut names = families
        .iter()
        .flat_map(|f| &f.versions)
        .flat_map(|v| &v.types)
        .map(|t| t.discriminator().name.as_str());
    let first = names.next().ok_or_else(|| {
        invalid("no integration type (the wire vocabulary needs a discriminator)")
    })?;
    if let Some(other) = names.find(|n| *n != first) {
        return Err(invalid(format!(
            "integration bodies use two discriminators, {first} and {other}"
        )));
    }
    Ok(first.to_owned())
}

/// The read-only id property, which every integration type that has one shares.
fn id_field(families: &[Family]) -> Result<String> {
    let mut names = families
        .iter()
        .flat_map(|f| &f.versions)
        .flat_map(|v| &v.types)
        .filter_map(|t| t.fields.iter().find(|f| f.read_only && !f.discriminator))
        .map(|f| f.name.as_str());
    let first = names
        .next()
        .ok_or_else(|| invalid("no integration type has a read-only id property"))?;
    if let Some(other) = names.find(|n| *n != first) {
        return Err(invalid(format!(
            "integration bodies use two id properties, {first} and {other}"
        )));
    }
    Ok(first.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> Value {
        crate::spec::bundled().unwrap().raw
    }

    fn built(raw: &Value) -> Result<Wire> {
        let spec = crate::spec::parse(&serde_yaml_ng::to_string(raw).unwrap())?;
        super::super::build(&spec).map(|m| m.wire)
    }

    #[test]
    fn the_bundled_spec_gives_the_documented_names() {
        let wire = crate::model::bundled().unwrap().wire;
        assert_eq!(wire.list.results, "results");
        assert_eq!(wire.list.links, "links");
        assert_eq!(wire.list.total_count, "totalCount");
        assert_eq!(
            [&wire.link.rel, &wire.link.href, &wire.link.this_page],
            ["rel", "href", "self"]
        );
        assert_eq!([&wire.link.next, &wire.link.previous], ["next", "previous"]);
        assert_eq!(wire.page.page_num, "pageNum");
        assert_eq!(wire.page.items_per_page, "itemsPerPage");
        assert_eq!(wire.page.include_count, "includeCount");
        assert_eq!(
            [
                &wire.envelope.param,
                &wire.envelope.status,
                &wire.envelope.content
            ],
            ["envelope", "status", "content"]
        );
        assert_eq!(wire.pretty, "pretty");
        assert_eq!(wire.error.status, "error");
        assert_eq!(wire.error.code, "errorCode");
        assert_eq!(wire.error.parameters, "parameters");
        assert_eq!(wire.discriminator, "type");
        assert_eq!([&wire.id, &wire.type_param], ["id", "integrationType"]);
        assert_eq!(wire.query_role("pageNum"), Some(QueryRole::PageNum));
        assert_eq!(wire.query(QueryRole::Envelope), "envelope");
        assert_eq!(wire.query_role("groupId"), None);
    }

    #[test]
    fn a_missing_name_is_a_load_error_that_says_which() {
        let mut raw = raw();
        raw.pointer_mut("/components/parameters/Envelope")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("x-envelope");
        let err = built(&raw).unwrap_err().to_string();
        assert!(
            err.contains("Envelope") && err.contains("x-envelope"),
            "{err}"
        );

        let mut raw = self::raw();
        raw.pointer_mut("/components/schemas/ApiError/x-error-fields")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("code");
        let err = built(&raw).unwrap_err().to_string();
        assert!(err.contains("ApiError") && err.contains("code"), "{err}");
    }

    #[test]
    fn a_name_that_is_not_a_property_is_refused() {
        let mut raw = raw();
        *raw.pointer_mut("/components/schemas/Link/x-link/href")
            .unwrap() = "url".into();
        let err = built(&raw).unwrap_err().to_string();
        assert!(
            err.contains("url") && err.contains("not one of its properties"),
            "{err}"
        );
    }

    #[test]
    fn a_page_schema_without_a_total_count_is_refused() {
        let mut raw = raw();
        let page = raw
            .pointer_mut("/components/schemas/CmIntegrationPage")
            .unwrap();
        page["properties"]
            .as_object_mut()
            .unwrap()
            .remove("totalCount");
        page["required"] = serde_json::json!(["links", "results"]);
        let err = built(&raw).unwrap_err().to_string();
        assert!(
            err.contains("CmIntegrationPage") && err.contains("total count"),
            "{err}"
        );
    }
}
