//! One HTTP exchange, below a session's retries, tokens and traffic counting: over the network
//! with reqwest (remote targets), or in-process through the reference server's own router called
//! as a tower `Service` (the embedded target). In-process there is no socket and no TLS set-up,
//! but the same router, middleware, extractors and handlers answer the same request bytes.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Response, Uri, header};
use tower::ServiceExt;

use super::NoAnswer;

/// An answer, its body read whole.
pub(crate) type Answer = Response<Vec<u8>>;

/// How a session reaches its target.
#[derive(Clone, Debug)]
pub(crate) enum Transport {
    /// HTTP over the network.
    Network(reqwest::Client),
    /// The reference server's router, called directly.
    InProcess {
        router: axum::Router,
        timeout: Duration,
    },
}

impl Transport {
    /// A reqwest client with `timeout` for connecting and for each request.
    pub(crate) fn network(timeout: Duration) -> Result<Self, String> {
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map(Transport::Network)
            .map_err(|e| e.to_string())
    }

    /// `router` answering in-process, each exchange bounded by `timeout`.
    pub(crate) fn in_process(router: axum::Router, timeout: Duration) -> Self {
        // As `axum::serve` does per connection: routes are made ready once, not per request.
        Transport::InProcess {
            router: router.with_state(()),
            timeout,
        }
    }

    /// Sends one request to `url` and reads the whole answer, or says why there is none.
    pub(crate) async fn exchange(
        &self,
        method: &Method,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> Result<Answer, NoAnswer> {
        match self {
            Transport::Network(client) => {
                let mut builder = client.request(method.clone(), url);
                for (name, value) in headers {
                    builder = builder.header(name, value);
                }
                let response = builder.body(body).send().await.map_err(|e| no_answer(&e))?;
                let mut answer = Response::builder().status(response.status());
                if let Some(h) = answer.headers_mut() {
                    *h = response.headers().clone();
                }
                let bytes = response.bytes().await.map_err(|e| no_answer(&e))?;
                answer.body(bytes.to_vec()).map_err(|e| NoAnswer::Broken {
                    detail: e.to_string(),
                })
            }
            Transport::InProcess { router, timeout } => {
                let request =
                    in_process_request(method, url, headers, body).map_err(NoAnswer::Unsendable)?;
                let call = async {
                    let response = router
                        .clone()
                        .oneshot(request)
                        .await
                        .unwrap_or_else(|never| match never {});
                    read_whole(response).await
                };
                tokio::time::timeout(*timeout, call)
                    .await
                    .map_err(|_| NoAnswer::Timeout {
                        detail: String::new(),
                    })?
            }
        }
    }
}

/// The request a network client would send: `Host` from the URL, and `Content-Length` for a
/// body or a method that carries one.
fn in_process_request(
    method: &Method,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> Result<Request<Body>, String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    let mut request = Request::builder().method(method.clone());
    let Some(slot) = request.headers_mut() else {
        return Err("cannot build the request".to_owned());
    };
    if let Some(authority) = uri.authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        slot.insert(header::HOST, host);
    }
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| format!("{name}: {e}"))?;
        let value = HeaderValue::from_str(value).map_err(|e| format!("{name}: {e}"))?;
        slot.append(name, value);
    }
    if !body.is_empty() || !matches!(*method, Method::GET | Method::HEAD) {
        slot.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    request
        .uri(uri)
        .body(Body::from(body))
        .map_err(|e| e.to_string())
}

/// The router's answer with its body read, and `Content-Length` set as the server would send it.
async fn read_whole(response: Response<Body>) -> Result<Answer, NoAnswer> {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| NoAnswer::Broken {
            detail: format!("cannot read the answer: {e}"),
        })?;
    parts
        .headers
        .entry(header::CONTENT_LENGTH)
        .or_insert_with(|| HeaderValue::from(bytes.len()));
    Ok(Response::from_parts(parts, bytes.to_vec()))
}

/// `application/x-www-form-urlencoded`, as reqwest's `form` writes it.
pub(crate) fn form_body(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, name);
        out.push('=');
        encode_into(&mut out, value);
    }
    out.into_bytes()
}

fn encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
}

/// What a reqwest error says of the target, with the innermost cause of its chain (connection
/// refused, ...) as the detail.
pub(crate) fn no_answer(e: &reqwest::Error) -> NoAnswer {
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if e.is_builder() {
        NoAnswer::Unsendable(if detail.is_empty() {
            e.to_string()
        } else {
            detail
        })
    } else if e.is_timeout() {
        NoAnswer::Timeout { detail }
    } else if e.is_connect() {
        let origin = e
            .url()
            .map_or_else(String::new, |url| url.origin().ascii_serialization());
        NoAnswer::Connect { origin, detail }
    } else {
        NoAnswer::Broken { detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_closed_port_is_no_connection_and_a_bad_header_is_never_sent() {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1.0/me", free.local_addr().unwrap());
        drop(free);
        let transport = Transport::network(Duration::from_secs(5)).unwrap();
        let refused = transport
            .exchange(&Method::GET, &url, &[], Vec::new())
            .await
            .unwrap_err();
        let NoAnswer::Connect { origin, .. } = &refused else {
            panic!("{refused:?}");
        };
        assert!(url.starts_with(origin.as_str()), "{origin}");
        assert!(refused.is_silence());
        let bad_header = [("Bad Name".to_owned(), "x".to_owned())];
        let unsent = transport
            .exchange(&Method::GET, &url, &bad_header, Vec::new())
            .await
            .unwrap_err();
        assert!(matches!(unsent, NoAnswer::Unsendable(_)), "{unsent:?}");
        assert!(!unsent.is_silence());
    }

    #[test]
    fn form_bodies_are_encoded_as_reqwest_encodes_them() {
        let body = form_body(&[
            ("scope", "https://graph.microsoft.com/.default"),
            ("a b", "x&y=z"),
        ]);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&a+b=x%26y%3Dz"
        );
    }
}
