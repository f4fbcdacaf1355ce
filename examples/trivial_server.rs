//! The ceiling for `scripts/bench-http.sh`: the same axum and tokio stack as the reference server,
//! with a handler that reads the body and answers an empty 200, nothing else.
//!
//! Run with `cargo run --release --example trivial_server -- 127.0.0.1:PORT`.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8081".to_owned());
    let app = Router::new().route("/{*path}", post(|_body: Bytes| async { StatusCode::OK }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("trivial server on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
