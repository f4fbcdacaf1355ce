//! A catalogue of hostile requests, sent byte for byte over a raw socket: each gets the right 4xx
//! with a Graph-shaped error body, and the server answers a normal request right after.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use presence_conformance::server::config::ServerConfig;
use presence_conformance::server::{PresenceClock, RunningServer};
use serde_json::Value;

const USER: &str = "a0000000-0000-4000-8000-000000000001";
const APP: &str = "11111111-2222-4333-8444-555555555555";

/// One hostile request and the status it must get.
struct Hostile {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
}

/// Malformed HTTP that hyper refuses before any route runs: the status is right, but there is
/// no place for a Graph body (hyper closes the connection).
const PROTOCOL_LEVEL: &[&str] = &["header injection attempt in client-request-id"];

fn post(path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn set_presence(body: &str) -> Vec<u8> {
    post(
        &format!("/v1.0/users/{USER}/presence/setPresence"),
        "application/json",
        body.as_bytes(),
    )
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}

fn catalogue() -> Vec<Hostile> {
    let sp = |name, body: &str, status| Hostile {
        name,
        request: set_presence(body),
        status,
    };
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!(
        "{{\"sessionId\":{}1{}}}",
        "{\"a\":".repeat(5_000),
        "}".repeat(5_000)
    );
    let huge_id = "a".repeat(100_000);
    let ids_10k: Vec<String> = (0..10_000)
        .map(|i| format!("\"e0000000-0000-4000-8000-{i:012x}\""))
        .collect();
    let batch = |ids: &str| {
        post(
            "/v1.0/communications/getPresencesByUserId",
            "application/json",
            ids.as_bytes(),
        )
    };
    vec![
        sp("empty body", "", 400),
        sp("JSON null", "null", 400),
        sp("JSON array", "[]", 400),
        sp("JSON string", "\"setPresence\"", 400),
        sp("JSON number", "42", 400),
        sp("truncated JSON", "{\"sessionId\":\"x\",\"availability\":", 400),
        sp("trailing garbage", "{} {}", 400),
        sp("single quotes", "{'availability':'Busy'}", 400),
        sp("comments", "{/* c */\"availability\":\"Busy\"}", 400),
        sp("number for availability", &format!("{{\"sessionId\":\"{APP}\",\"availability\":1,\"activity\":\"Busy\"}}"), 400),
        sp("object for activity", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":{{}}}}"), 400),
        sp("array for sessionId", "{\"sessionId\":[],\"availability\":\"Busy\",\"activity\":\"InACall\"}", 400),
        sp("boolean for expirationDuration", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":\"InACall\",\"expirationDuration\":true}}"), 400),
        sp("number for expirationDuration", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":\"InACall\",\"expirationDuration\":300}}"), 400),
        sp("null availability", &format!("{{\"sessionId\":\"{APP}\",\"availability\":null,\"activity\":\"InACall\"}}"), 400),
        sp("unknown parameter", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":\"InACall\",\"x\":1}}"), 400),
        sp("duplicate keys, last one unsupported", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"availability\":\"Sleeping\",\"activity\":\"InACall\"}}"), 400),
        sp("deeply nested array", &deep, 400),
        sp("deeply nested object", &deep_object, 400),
        sp("huge sessionId", &format!("{{\"sessionId\":\"{huge_id}\",\"availability\":\"Busy\",\"activity\":\"InACall\"}}"), 413),
        sp("NUL in availability", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Bu\\u0000sy\",\"activity\":\"InACall\"}}"), 400),
        sp("lone surrogate", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"\\ud800\",\"activity\":\"InACall\"}}"), 400),
        sp("huge number", &format!("{{\"sessionId\":\"{APP}\",\"availability\":1e999999,\"activity\":\"InACall\"}}"), 400),
        sp("duration overflow", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":\"InACall\",\"expirationDuration\":\"P99999999999999999999D\"}}"), 400),
        sp("negative duration", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":\"InACall\",\"expirationDuration\":\"-PT5M\"}}"), 400),
        sp("script in availability", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"<script>alert(1)</script>\",\"activity\":\"InACall\"}}"), 400),
        sp("SQL in activity", &format!("{{\"sessionId\":\"{APP}\",\"availability\":\"Busy\",\"activity\":\"' OR 1=1 --\"}}"), 400),
        Hostile {
            name: "invalid UTF-8 body",
            request: post(&format!("/v1.0/users/{USER}/presence/setPresence"), "application/json", b"{\"availability\":\"\xff\xfe\"}"),
            status: 400,
        },
        Hostile {
            name: "UTF-16 body",
            request: post(&format!("/v1.0/users/{USER}/presence/setPresence"), "application/json", b"\xff\xfe{\x00}\x00"),
            status: 400,
        },
        Hostile { name: "oversized body", request: set_presence(&" ".repeat(70_000)), status: 413 },
        Hostile {
            name: "text/plain",
            request: post(&format!("/v1.0/users/{USER}/presence/setPresence"), "text/plain", b"{}"),
            status: 415,
        },
        Hostile {
            name: "form body",
            request: post(&format!("/v1.0/users/{USER}/presence/setPresence"), "application/x-www-form-urlencoded", b"availability=Busy"),
            status: 415,
        },
        Hostile {
            name: "json look-alike content type",
            request: post(&format!("/v1.0/users/{USER}/presence/setPresence"), "application/jsonp", b"{}"),
            status: 415,
        },
        Hostile { name: "path traversal in id", request: get("/v1.0/users/..%2F..%2Fetc%2Fpasswd/presence"), status: 400 },
        Hostile { name: "dot segments", request: get("/v1.0/users/../../presence"), status: 404 },
        Hostile { name: "encoded slash in id", request: get(&format!("/v1.0/users/{USER}%2Fpresence/presence")), status: 400 },
        Hostile { name: "huge id in path", request: get(&format!("/v1.0/users/{}/presence", "a".repeat(8_000))), status: 400 },
        Hostile { name: "id with NUL", request: get("/v1.0/users/a%00b/presence"), status: 400 },
        Hostile { name: "invalid percent-encoding", request: get("/v1.0/users/%ZZ/presence"), status: 400 },
        Hostile { name: "GUID with braces", request: get(&format!("/v1.0/users/%7B{USER}%7D/presence")), status: 400 },
        Hostile { name: "unknown version", request: get(&format!("/v2.0/users/{USER}/presence")), status: 404 },
        Hostile {
            name: "unknown action name",
            request: post(&format!("/v1.0/users/{USER}/presence/setEverything"), "application/json", b"{}"),
            status: 404,
        },
        Hostile {
            name: "TRACE on presence",
            request: format!("TRACE /v1.0/users/{USER}/presence HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes(),
            status: 405,
        },
        Hostile {
            name: "TRACE on an action",
            request: format!("TRACE /v1.0/users/{USER}/presence/setPresence HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes(),
            status: 405,
        },
        Hostile { name: "GET on an action", request: get(&format!("/v1.0/users/{USER}/presence/setPresence")), status: 405 },
        Hostile {
            name: "DELETE presence",
            request: format!("DELETE /v1.0/users/{USER}/presence HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes(),
            status: 405,
        },
        Hostile {
            name: "header injection attempt in client-request-id",
            request: format!("GET /v1.0/users/{USER}/presence HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nclient-request-id: a\rSet-Cookie: x\r\n\r\n").into_bytes(),
            status: 400,
        },
        Hostile { name: "ids not an array", request: batch("{\"ids\":\"x\"}"), status: 400 },
        Hostile { name: "ids with a number", request: batch("{\"ids\":[1]}"), status: 400 },
        Hostile { name: "ids with a non-GUID", request: batch("{\"ids\":[\"../x\"]}"), status: 400 },
        // 10,000 ids do not fit the 64 KiB body limit (650 do, with room to spare).
        Hostile { name: "10,000 ids", request: batch(&format!("{{\"ids\":[{}]}}", ids_10k.join(","))), status: 413 },
        Hostile { name: "651 ids", request: batch(&format!("{{\"ids\":[{}]}}", ids_10k[..651].join(","))), status: 400 },
        Hostile {
            name: "control advance backwards",
            request: post("/_conformance/clock/advance", "application/json", b"{\"by\":\"-PT5M\"}"),
            status: 400,
        },
        Hostile {
            name: "control advance past the end of time",
            request: post("/_conformance/clock/advance", "application/json", b"{\"by\":\"P9999999999D\"}"),
            status: 400,
        },
        Hostile {
            name: "truncated chunked body",
            request: format!(
                "POST /v1.0/users/{USER}/presence/setPresence HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{{\"availability\"\r\n"
            )
            .into_bytes(),
            status: 400,
        },
        Hostile {
            name: "chunked body with a bad chunk size",
            request: format!(
                "POST /v1.0/users/{USER}/presence/setPresence HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"
            )
            .into_bytes(),
            status: 400,
        },
    ]
}

/// Sends raw bytes and reads the status and body (the connection may be cut by the server).
fn exchange(addr: &str, request: &[u8], half_close: bool) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = stream.write_all(request);
    if half_close {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut response = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = find(&response, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head.lines().find_map(|l| {
                l.strip_prefix("content-length:")
                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
            });
            if let Some(length) = length
                && response.len() >= end + 4 + length
            {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = find(&response, b"\r\n\r\n").map_or(Vec::new(), |end| response[end + 4..].to_vec());
    (status, body)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn every_hostile_request_gets_its_4xx_with_a_graph_error_and_the_server_stays_healthy() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    };
    let server = runtime
        .block_on(RunningServer::start(
            config,
            PresenceClock::virtual_at_epoch(),
        ))
        .unwrap();
    let addr = server.addr().to_string();
    let catalogue = catalogue();
    assert!(
        catalogue.len() >= 50,
        "{} hostile requests",
        catalogue.len()
    );
    let healthy = get(&format!("/v1.0/users/{USER}/presence"));
    let mut failures = Vec::new();
    for hostile in &catalogue {
        let truncated = hostile.name.starts_with("truncated");
        let (status, body) = exchange(&addr, &hostile.request, truncated);
        if status != hostile.status {
            failures.push(format!(
                "{}: expected {}, got {status}",
                hostile.name, hostile.status
            ));
            continue;
        }
        if PROTOCOL_LEVEL.contains(&hostile.name) {
            assert!(body.is_empty(), "{}", hostile.name);
        } else {
            match serde_json::from_slice::<Value>(&body) {
                Ok(json)
                    if json
                        .pointer("/error/code")
                        .and_then(Value::as_str)
                        .is_some()
                        && json.pointer("/error/innerError/request-id").is_some() => {}
                _ => failures.push(format!(
                    "{}: not a Graph error: {}",
                    hostile.name,
                    String::from_utf8_lossy(&body)
                )),
            }
        }
        let (after, _) = exchange(&addr, &healthy, false);
        if after != 200 {
            failures.push(format!(
                "{}: the server answered {after} to a normal request afterwards",
                hostile.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {}:\n{}",
        failures.len(),
        catalogue.len(),
        failures.join("\n")
    );
    drop(server);
}
