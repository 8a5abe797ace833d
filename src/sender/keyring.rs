//! The one credential map: for each credential a step can name, the authenticator that signs
//! it (owner, read-only, wrong password, the OAuth client's owner), and whether a 401 challenge
//! earns it one retry.

use crate::auth::{AuthSpec, Authenticator, NonceEpoch};
use crate::case::Credential;
use crate::error::{Error, Result};
use crate::transport::Target;

/// The authenticators of one lane: each keeps its own nonce and token, shared by the lane's
/// concurrent requests.
#[derive(Debug)]
pub struct Keyring {
    pub(super) owner: Authenticator,
    read_only: Option<Authenticator>,
    /// Digest with the owner's public key and a wrong private key.
    wrong: Option<Authenticator>,
    /// The OAuth client's owner credentials ([`Target::token_client`]), beside digest ones.
    oauth_owner: Option<Authenticator>,
}

/// The authenticator that signs a step's credential.
pub(super) struct Signer<'a> {
    pub(super) authenticator: &'a Authenticator,
    /// A 401 challenge earns the request one retry (the credential is meant to succeed, or to
    /// fail on its own merits rather than for want of a nonce).
    pub(super) retries: bool,
}

impl Keyring {
    pub(super) fn new(target: &Target, epoch: &NonceEpoch) -> Keyring {
        let signer = |spec: AuthSpec| {
            Authenticator::new(spec, target.base_url.clone()).with_epoch(epoch.clone())
        };
        let wrong = match &target.auth {
            AuthSpec::Digest { public, private } => Some(signer(AuthSpec::Digest {
                public: public.clone(),
                private: format!("{private}-wrong"),
            })),
            _ => None,
        };
        let oauth_owner = target.token_client().map(|(id, secret)| {
            signer(AuthSpec::OAuth {
                client_id: id.to_owned(),
                client_secret: secret.to_owned(),
            })
        });
        Keyring {
            owner: signer(target.auth.clone()),
            read_only: target.read_only.clone().map(signer),
            wrong,
            oauth_owner,
        }
    }

    /// The authenticator that signs `credential` (`None`: it is made without one), or why the
    /// target's credentials cannot make it.
    pub(super) fn signer(&self, credential: Credential) -> Result<Option<Signer<'_>>> {
        let (authenticator, retries) = match credential {
            Credential::Owner => (&self.owner, true),
            Credential::ReadOnly => (
                self.read_only
                    .as_ref()
                    .ok_or_else(|| Error::Auth("no read-only credentials were given".into()))?,
                true,
            ),
            Credential::WrongPassword => (
                self.wrong.as_ref().ok_or_else(|| {
                    Error::Auth("a wrong digest password needs digest credentials".into())
                })?,
                true,
            ),
            Credential::OAuthOwner => (
                self.oauth_owner.as_ref().ok_or_else(|| {
                    Error::Auth(
                        "the step signs with the OAuth client, and no OAuth client credentials \
                         were given (oauth:CLIENT_ID:SECRET)"
                            .into(),
                    )
                })?,
                true,
            ),
            // The owner's nonce, used on purpose the wrong way: the answer is the point.
            Credential::StaleNonce | Credential::ReplayedNonceCount | Credential::OtherUri => {
                (&self.owner, false)
            }
            Credential::None
            | Credential::BadBearer
            | Credential::MalformedDigest
            | Credential::UnnamedScheme
            | Credential::ExpiredBearer
            | Credential::ForgedNonce
            | Credential::Client
            | Credential::ClientWrongSecret
            | Credential::ClientUnknown => return Ok(None),
        };
        Ok(Some(Signer {
            authenticator,
            retries,
        }))
    }
}
