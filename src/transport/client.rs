//! The HTTP/1.1 client every request to a target goes through: hyper's connection pool over a
//! `TCP_NODELAY` connector, rustls for https, the environment's proxies for real targets.
//!
//! It is plain hyper on purpose: a conformance case that leaves a header out must leave it out
//! on the wire (reqwest always adds `accept: */*`). The only headers added to what a caller
//! gives are `host` and `content-length`, and they are added here, before sending, so that the
//! header map handed to hyper is exactly the header block written (hyper adds neither when they
//! are present) and can be recorded as sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, HOST};
use http::{Method, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use url::Url;

use super::gateway::Gateway;
use crate::error::{Error, Result};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How the client behaves; one per run.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The whole request: connect, TLS, headers and body.
    pub timeout: Duration,
    /// Response bodies are read up to this many bytes.
    pub body_cap: usize,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
    /// Which proxy, if any, requests go through.
    pub proxy: Proxy,
    /// A gateway's headers (added to every request), private CA and client certificate.
    pub gateway: Gateway,
}

/// Where the client's requests go first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Proxy {
    /// Straight to the target (always so for the embedded server).
    #[default]
    None,
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` (and lower-case forms), minus `NO_PROXY`.
    FromEnv,
    /// Every request through this proxy URL (credentials in it are sent to the proxy).
    All(String),
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(10),
            body_cap: 4 * 1024 * 1024,
            insecure: false,
            proxy: Proxy::None,
            gateway: Gateway::default(),
        }
    }
}

/// One keep-alive pool to one or more targets; cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
    proxies: Option<Arc<Matcher>>,
    /// The gateway's headers, sent with every request.
    extra: Arc<Vec<(HeaderName, HeaderValue)>>,
    timeout: Duration,
    body_cap: usize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("body_cap", &self.body_cap)
            .field("proxies", &self.proxies.is_some())
            .finish()
    }
}

/// What came back: the status and headers, and the body up to the cap.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was longer than the cap; the rest was not read.
    pub truncated: bool,
    /// Reading the body failed part-way (timeout, reset, broken chunking).
    pub error: Option<String>,
}

/// A request as it went on the wire, and what came of it.
#[derive(Debug)]
pub struct Sent {
    /// Every header written, in order (`host` and `content-length` included).
    pub headers: HeaderMap,
    /// The answer, or a one-line description of the transport failure.
    pub answer: std::result::Result<Answer, String>,
}

impl Client {
    pub fn new(opts: &ClientOptions) -> Result<Client> {
        let tls = tls_config(opts.insecure, &opts.gateway)?;
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(opts.timeout));
        // hyper-rustls hands https URIs to the TCP connector.
        http.enforce_http(false);
        let proxies = match &opts.proxy {
            Proxy::None => None,
            Proxy::FromEnv => Some(Arc::new(Matcher::from_env())),
            Proxy::All(url) => Some(Arc::new(Matcher::builder().all(url.clone()).build())),
        };
        let connector = Connector {
            direct: HttpsConnector::from((http.clone(), tls.clone())),
            http,
            tls,
            proxies: proxies.clone(),
        };
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Client {
            inner,
            proxies,
            extra: Arc::new(opts.gateway.headers.clone()),
            timeout: opts.timeout,
            body_cap: opts.body_cap,
        })
    }

    /// Send `headers` (and `host`, `content-length`, the gateway's headers, and the proxy's
    /// credentials for a plain http request through a proxy), read the answer within the per-request timeout and
    /// before `deadline`, the body up to the cap. A redirect is an answer like any other.
    pub async fn send(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
        deadline: Option<Instant>,
    ) -> Sent {
        let started = Instant::now();
        let timeout_at = started + self.timeout;
        // Which limit comes first decides what the failure is called.
        let (cut, cut_by_deadline) = match deadline {
            Some(d) if d < timeout_at => (d, true),
            _ => (timeout_at, false),
        };
        let expired = || {
            if cut_by_deadline {
                "the run's deadline was reached".to_owned()
            } else {
                format!("timed out after {}", seconds(self.timeout))
            }
        };
        let uri: Uri = match url.as_str().parse() {
            Ok(u) => u,
            Err(e) => {
                return Sent {
                    headers: HeaderMap::new(),
                    answer: Err(format!("bad URL {url}: {e}")),
                }
            }
        };
        let wire = self.wire_headers(&uri, url, headers, body);
        let mut request = http::Request::new(Full::new(body.cloned().unwrap_or_default()));
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = wire.clone();
        let response = match tokio::time::timeout_at(cut.into(), self.inner.request(request)).await
        {
            Err(_) => Err(expired()),
            Ok(Err(e)) => Err(describe(&e)),
            Ok(Ok(r)) => Ok(r),
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                return Sent {
                    headers: wire,
                    answer: Err(e),
                }
            }
        };
        let (parts, mut incoming) = response.into_parts();
        let mut body = Vec::new();
        let mut truncated = false;
        let mut error = None;
        loop {
            let frame = match tokio::time::timeout_at(cut.into(), incoming.frame()).await {
                Err(_) => {
                    error = Some(format!("reading the response body: {}", expired()));
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    error = Some(format!("broken response body: {}", chain(&e)));
                    break;
                }
                Ok(Some(Ok(frame))) => frame,
            };
            let Ok(chunk) = frame.into_data() else {
                continue; // trailers
            };
            if body.len() + chunk.len() > self.body_cap {
                body.extend_from_slice(&chunk[..self.body_cap - body.len()]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Sent {
            headers: wire,
            answer: Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
                truncated,
                error,
            }),
        }
    }

    /// The header block as it will be written: `host` first (as hyper would compute it),
    /// the caller's headers in their order, the gateway's, `content-length` last for a request with a body
    /// (also an empty one: hyper would leave it out, and a server may then refuse a POST as
    /// lacking a length).
    fn wire_headers(
        &self,
        uri: &Uri,
        url: &Url,
        headers: &HeaderMap,
        body: Option<&Bytes>,
    ) -> HeaderMap {
        let mut wire = HeaderMap::with_capacity(headers.len() + 3);
        if let Some(host) = url.host_str() {
            let value = match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
            if let Ok(v) = HeaderValue::from_str(&value) {
                wire.insert(HOST, v);
            }
        }
        for (name, value) in headers {
            if name != HOST && name != CONTENT_LENGTH {
                wire.append(name.clone(), value.clone());
            }
        }
        // After the caller's: a gateway header never replaces one of the harness's (their
        // names are refused when given), so each case still controls its own.
        for (name, value) in self.extra.iter() {
            wire.append(name.clone(), value.clone());
        }
        if uri.scheme() == Some(&http::uri::Scheme::HTTP) {
            // A plain http request through a proxy carries the proxy's credentials itself.
            if let Some(auth) = self
                .proxies
                .as_ref()
                .and_then(|m| m.intercept(uri))
                .and_then(|i| i.basic_auth().cloned())
            {
                wire.insert(http::header::PROXY_AUTHORIZATION, auth);
            }
        }
        if let Some(b) = body {
            wire.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
        }
        wire
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

/// The crypto provider of every TLS connection: the process default when one is installed,
/// else aws-lc-rs.
pub(super) fn crypto_provider() -> Arc<rustls::crypto::CryptoProvider> {
    rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// rustls with the platform's verifier (as reqwest had it) plus the gateway's private CA, or
/// accepting anything under `--insecure`; the gateway's client certificate when it has one;
/// HTTP/1.1 only, as the client speaks nothing else.
fn tls_config(insecure: bool, gateway: &Gateway) -> Result<Arc<ClientConfig>> {
    let provider = crypto_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Target(format!("cannot set up TLS: {e}")))?
        .dangerous();
    let builder = if insecure {
        builder.with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        let verifier = if gateway.ca_certs.is_empty() {
            rustls_platform_verifier::Verifier::new(provider)
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(
                gateway.ca_certs.iter().cloned(),
                provider,
            )
        }
        .map_err(|e| Error::Target(format!("cannot load the platform's certificates: {e}")))?;
        builder.with_custom_certificate_verifier(Arc::new(verifier))
    };
    let mut config = match &gateway.client_identity {
        None => builder.with_no_client_auth(),
        Some(id) => builder
            .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
            .map_err(|e| Error::Usage(format!("the client certificate cannot be used: {e}")))?,
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `--insecure`: any certificate, any name; the handshake signatures are still checked, so
/// the connection is at least to whoever holds the certificate's key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------------------------------------
// Connector: direct, or through a proxy (CONNECT tunnel for https, absolute-form for http)
// ---------------------------------------------------------------------------------------------

type Stream = MaybeHttpsStream<TokioIo<TcpStream>>;

#[derive(Clone)]
struct Connector {
    direct: HttpsConnector<HttpConnector>,
    http: HttpConnector,
    tls: Arc<ClientConfig>,
    proxies: Option<Arc<Matcher>>,
}

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = std::result::Result<Conn, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::result::Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxies.as_ref().and_then(|m| m.intercept(&dst));
        let Some(intercept) = intercept else {
            let mut direct = self.direct.clone();
            return Box::pin(async move {
                let io = direct.call(dst).await?;
                Ok(Conn { io, proxied: false })
            });
        };
        if dst.scheme() == Some(&http::uri::Scheme::HTTPS) {
            let mut tunnel = Tunnel::new(intercept.uri().clone(), self.http.clone());
            if let Some(auth) = intercept.basic_auth() {
                tunnel = tunnel.with_auth(auth.clone());
            }
            let mut tls = HttpsConnector::from((tunnel, self.tls.clone()));
            Box::pin(async move {
                let io = tls.call(dst).await?;
                Ok(Conn { io, proxied: false })
            })
        } else {
            let mut http = self.http.clone();
            let proxy = intercept.uri().clone();
            Box::pin(async move {
                let io = http.call(proxy).await?;
                Ok(Conn {
                    io: MaybeHttpsStream::Http(io),
                    proxied: true,
                })
            })
        }
    }
}

/// A connection, marked as going through a plain http proxy (so requests use absolute-form).
struct Conn {
    io: Stream,
    proxied: bool,
}

impl Connection for Conn {
    fn connected(&self) -> Connected {
        self.io.connected().proxy(self.proxied)
    }
}

impl Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors: one line that says what happened
// ---------------------------------------------------------------------------------------------

/// A transport failure as one line: what kind of failure first (the words the reports and
/// tests look for), then the chain of causes.
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut tls = false;
    let mut not_http = false;
    let mut reset = false;
    let mut closed = false;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            // An io::Error's `source` skips the error it wraps, and the TLS layers wrap one
            // io::Error in another: look inside.
            let mut inner = io.get_ref();
            while let Some(i) = inner {
                tls |= i.downcast_ref::<rustls::Error>().is_some();
                inner = i.downcast_ref::<std::io::Error>().and_then(|e| e.get_ref());
            }
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            ) {
                reset = true;
            }
        }
        if s.downcast_ref::<rustls::Error>().is_some() {
            tls = true;
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            not_http |= h.is_parse() || h.is_parse_status();
            closed |= h.is_incomplete_message();
        }
        source = s.source();
    }
    let kind = if tls {
        "TLS failure"
    } else if e.is_connect() && reset {
        "connection reset"
    } else if e.is_connect() {
        "could not connect"
    } else if not_http {
        "not HTTP"
    } else if reset {
        "connection reset"
    } else if closed {
        "connection closed before an answer"
    } else {
        "transport error"
    };
    format!("{kind}: {}", chain(e))
}

/// An error and its causes, `: `-separated, without the wrappers that only say "client error".
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        let text = s.to_string();
        let wrapper = text.starts_with("client error (");
        if !wrapper && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}
