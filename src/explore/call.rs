//! One exploration request as data: a [`Call`] is self-contained and serialisable (a
//! reproduction is a list of them): who sends it, to which project, the operation, type,
//! query, headers and body, and how its body was made (so that scrubbed secrets can be made
//! again).

use rand::SeedableRng as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bodies::body;
use super::space::Space;
use crate::case::{Body, Credential, Project, Request};
use crate::model::{Family, Model, OperationKind, Situation};

/// Who sends a call, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Who {
    #[default]
    Owner,
    ReadOnly,
    None,
    /// The owner's digest user with a wrong password.
    WrongPassword,
    /// A bearer token the target never issued.
    BadBearer,
    /// A digest response to a nonce the target never issued.
    ForgedNonce,
    /// A digest `Authorization` without its parameters.
    MalformedDigest,
    /// A scheme the contract does not name.
    UnnamedScheme,
    /// The owner's digest computed for another `uri`.
    OtherUri,
    /// The owner's digest sent once and then again with the same nonce count.
    ReplayedNonceCount,
}

impl Who {
    pub fn credential(self) -> Credential {
        match self {
            Who::Owner => Credential::Owner,
            Who::ReadOnly => Credential::ReadOnly,
            Who::None => Credential::None,
            Who::WrongPassword => Credential::WrongPassword,
            Who::BadBearer => Credential::BadBearer,
            Who::ForgedNonce => Credential::ForgedNonce,
            Who::MalformedDigest => Credential::MalformedDigest,
            Who::UnnamedScheme => Credential::UnnamedScheme,
            Who::OtherUri => Credential::OtherUri,
            Who::ReplayedNonceCount => Credential::ReplayedNonceCount,
        }
    }
}

/// Which project a call addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Where {
    #[default]
    Own,
    /// A project of the other kind (Cloud Manager for Atlas families and vice versa).
    OtherKind,
    /// A project the credentials cannot access.
    NoAccess,
    /// A well-formed group id of no project.
    NoProject,
}

/// The group id [`Where::NoProject`] sends: 24 lower-case hex digits no target assigns.
pub const NO_PROJECT: &str = "5e1dc0de5e1dc0de5e1dc0de";

/// One request of an exploration, as data.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Call {
    pub family: String,
    /// The media version (atlas-v2); `None` in families with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `list`, `get`, `create`, `update` or `delete`.
    pub operation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    pub credential: Who,
    #[serde(default)]
    pub project: Where,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<(String, String)>,
    /// A `Content-Type` other than the version's media type as written (still JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The JSON body (create, update).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// A body sent as these bytes (not JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// The one thing the body breaks (a situation of the error catalogue), and its field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How the body was made: a reproduction keeps this instead of the secret values it
    /// carries, and [`Call::restore`] makes them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
    /// The class of the input model the call was drawn for (`space::Class::id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// A method other than the operation's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The path after the group id, when not the operation's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// An `Accept` other than the version's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
    /// Headers left out (`accept`, `content-type`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub omit: Vec<String>,
}

/// The body choice and seed a call's body was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    pub mode: u8,
    pub seed: u32,
}

impl Call {
    pub const ACCEPT: &'static str = "accept";
    pub const CONTENT_TYPE: &'static str = "content-type";

    /// The plainest call of `kind` on the type `type_name`: the owner, the family's own
    /// project, no query, no body.
    pub fn plain(
        family: &str,
        version: Option<&str>,
        kind: OperationKind,
        type_name: &str,
    ) -> Call {
        Call {
            family: family.to_owned(),
            version: version.map(str::to_owned),
            operation: kind.as_str().to_owned(),
            type_name: Some(type_name.to_owned()),
            ..Call::default()
        }
    }

    /// The owner's plain get of this call's type, family and version: what shows that a
    /// refused write changed nothing.
    pub fn read_back(&self) -> Call {
        Call::plain(
            &self.family,
            self.version.as_deref(),
            OperationKind::Get,
            self.type_name.as_deref().unwrap_or_default(),
        )
    }

    /// The situation the body breaks, if it breaks one.
    pub fn situation(&self) -> Option<Situation> {
        self.broken.as_deref().and_then(Situation::parse)
    }

    pub fn kind(&self) -> Option<OperationKind> {
        OperationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.operation)
    }

    /// The call as a case request of its family, or why it names nothing of the model.
    pub fn request<'m>(&self, model: &'m Model) -> Result<(Request, &'m Family), String> {
        let family = model
            .family(&self.family)
            .ok_or_else(|| format!("unknown family {:?}", self.family))?;
        let kind = self
            .kind()
            .ok_or_else(|| format!("unknown operation {:?}", self.operation))?;
        let version = family
            .version(self.version.as_deref())
            .ok_or_else(|| format!("unknown version {:?}", self.version))?;
        let op = family.operation(kind);
        let path = match (&self.path, &self.type_name, kind.has_type()) {
            (Some(p), _, _) => p.clone(),
            (None, Some(t), true) => format!("/integrations/{t}"),
            _ => "/integrations".to_owned(),
        };
        let body = match (&self.raw, &self.body) {
            (Some(raw), _) => Body::Raw(raw.clone()),
            (None, Some(v)) => Body::Json(v.clone()),
            (None, None) => Body::None,
        };
        let omitted = |h: &str| self.omit.iter().any(|o| o == h);
        let content_type = (op.has_body && !omitted(Call::CONTENT_TYPE)).then(|| {
            self.content_type
                .clone()
                .unwrap_or_else(|| version.media_type.clone())
        });
        let accept = (!omitted(Call::ACCEPT)).then(|| {
            self.accept
                .clone()
                .unwrap_or_else(|| version.media_type.clone())
        });
        Ok((
            Request {
                method: self.method.clone().unwrap_or_else(|| op.method.clone()),
                project: match self.project {
                    Where::Own => Project::Own,
                    Where::OtherKind => Project::OtherKind,
                    Where::NoAccess => Project::NoAccess,
                    Where::NoProject => Project::Literal(NO_PROJECT.to_owned()),
                },
                path,
                base_path: family.base_path.clone(),
                query: self.query.clone(),
                accept,
                content_type,
                body,
                credential: self.credential.credential(),
                // A request no operation matches has no documented responses (as the fixed
                // cases of those rows).
                operation: match self.situation() {
                    Some(Situation::UnknownPath | Situation::MethodNotAllowed) => String::new(),
                    _ => op.id.clone(),
                },
                version: version.name.clone(),
            },
            family,
        ))
    }

    /// The call with its body made again from its recipe, when the body it carries had its
    /// secrets scrubbed (a reproduction file); `Err` when the recipe no longer makes that body
    /// (a reproduction of another version of the generator). `space` holds the class the call
    /// was drawn for, if any (`space::Reach::everything`).
    pub fn restore(&self, model: &Model, space: &Space) -> Result<Call, String> {
        let scrubbed = |c: &Call| {
            serde_json::to_string(&(&c.body, &c.raw))
                .unwrap_or_default()
                .contains(crate::scrub::PLACEHOLDER)
        };
        if !scrubbed(self) {
            return Ok(self.clone());
        }
        let recipe = self
            .recipe
            .ok_or("a scrubbed body without the recipe that made it")?;
        let version = model
            .family(&self.family)
            .and_then(|f| f.version(self.version.as_deref()))
            .ok_or("unknown family or version")?;
        let ty = self
            .type_name
            .as_deref()
            .and_then(|t| version.integration_type(t))
            .ok_or("a body for a type the version does not have")?;
        let mut made = self.clone();
        let mut rng = rand::rngs::StdRng::seed_from_u64(u64::from(recipe.seed));
        let tag = format!("x{:08x}", recipe.seed);
        body(&mut made, ty, version, recipe.mode, &mut rng, &tag);
        if let Some(id) = &self.class {
            let class = space
                .get(id)
                .ok_or("a class the input model no longer has (written by another version?)")?;
            class.apply(&mut made, &tag);
        }
        // Masks sent back (an update's echo of the last write) are no secrets: they stay as
        // the file holds them, over the recipe's values.
        if let (Some(Value::Object(kept)), Some(Value::Object(fresh))) =
            (&self.body, &mut made.body)
        {
            for f in ty.secret_fields() {
                if let Some(Value::String(v)) = kept.get(&f.name) {
                    if v.contains("****") && !v.contains(crate::scrub::PLACEHOLDER) {
                        fresh.insert(f.name.clone(), Value::String(v.clone()));
                    }
                }
            }
        }
        let again = crate::scrub::Scrubber::new(made.secrets(model));
        let shown =
            |c: &Call| again.clean(&serde_json::to_string(&(&c.body, &c.raw)).unwrap_or_default());
        if shown(&made) != shown(self) {
            return Err("its recipe makes another body (written by another version?)".into());
        }
        Ok(made)
    }

    /// The secret values the call's body carries (five characters or more: shorter ones can
    /// occur anywhere by chance).
    pub fn secrets(&self, model: &Model) -> Vec<String> {
        let mut out = Vec::new();
        let Some(Value::Object(body)) = &self.body else {
            return out;
        };
        let Some(ty) = model
            .family(&self.family)
            .and_then(|f| f.version(self.version.as_deref()))
            .and_then(|v| {
                self.type_name
                    .as_deref()
                    .and_then(|t| v.integration_type(t))
            })
        else {
            return out;
        };
        for f in ty.secret_fields() {
            if let Some(s) = body.get(&f.name).and_then(Value::as_str) {
                // A value its own correct mask shows whole (a url that is all prefix, or a
                // mask sent back) is no secret the answer could leak.
                let shown = f
                    .secret
                    .is_some_and(|k| crate::case::values::shown_by_its_mask(k, s));
                if s.chars().count() >= 5 && !shown {
                    out.push(s.to_owned());
                }
            }
        }
        out
    }
}
