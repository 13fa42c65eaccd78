//! The storage host that GitHub's 302s point at (job logs, artifact archives): another port,
//! another origin, signed short-lived URLs, and no API rules.
//!
//! As on the real service, a download must come without the GitHub token: a request that
//! carries an `Authorization` header is refused (403) and recorded as a violation, and so is a
//! URL whose signature is wrong or expired.

use super::http::{self, Loopback};
use super::LoggedRequest;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a signed URL is good for.
const VALID_S: u64 = 300;

struct Blob {
    bytes: Vec<u8>,
    content_type: &'static str,
}

#[derive(Default)]
struct BlobState {
    blobs: HashMap<String, Blob>,
    log: Vec<LoggedRequest>,
    violations: Vec<String>,
}

pub struct BlobServer {
    server: Loopback,
    state: Arc<Mutex<BlobState>>,
    /// Per-server secret for the URL signatures.
    secret: u64,
}

fn signature(secret: u64, key: &str, expires: u64) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (secret, key, expires).hash(&mut h);
    format!("{:016x}", h.finish())
}

fn epoch_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

impl BlobServer {
    pub fn start() -> BlobServer {
        // Another loopback address: a different host from the API's, as on GitHub.
        let mut server = Loopback::bind("127.0.0.2");
        let state = Arc::new(Mutex::new(BlobState::default()));
        let secret = epoch_s() ^ (server.port() as u64) << 32;
        let serving = Arc::clone(&state);
        server.serve(move |request| serve(&serving, secret, request));
        BlobServer {
            server,
            state,
            secret,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BlobState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `bytes` under `key` and returns a signed URL for it.
    pub fn put(&self, key: &str, bytes: Vec<u8>, content_type: &'static str) -> String {
        self.lock().blobs.insert(
            key.to_string(),
            Blob {
                bytes,
                content_type,
            },
        );
        let expires = epoch_s() + VALID_S;
        format!(
            "{}/{key}?sv=2025-01-05&se={expires}&sig={}",
            self.server.origin(),
            signature(self.secret, key, expires)
        )
    }

    pub fn origin(&self) -> &str {
        self.server.origin()
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().violations)
    }
}

fn serve(state: &Mutex<BlobState>, secret: u64, request: tiny_http::Request) {
    let method = request.method().as_str().to_string();
    let url = request.url().to_string();
    let headers = http::headers(&request);
    let logged = LoggedRequest::new(&method, &url, &headers, "");
    let authorized = logged.authorized;
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let key = path.trim_start_matches('/').to_string();
    let query: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (status, body, content_type) = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.log.push(logged);
        let expires: u64 = query.get("se").and_then(|v| v.parse().ok()).unwrap_or(0);
        let signed =
            query.get("sig").map(String::as_str) == Some(&signature(secret, &key, expires));
        if authorized {
            s.violations.push(format!(
                "{method} {path}: the GitHub token was sent to the storage host"
            ));
            (
                403,
                b"AuthenticationFailed: unexpected Authorization header".to_vec(),
                "text/plain",
            )
        } else if method != "GET" {
            s.violations
                .push(format!("{method} {path}: the storage host serves GET only"));
            (405, Vec::new(), "text/plain")
        } else if !signed || expires < epoch_s() {
            s.violations
                .push(format!("GET {url}: bad or expired signature"));
            (
                403,
                b"AuthenticationFailed: signature".to_vec(),
                "text/plain",
            )
        } else {
            match s.blobs.get(&key) {
                Some(b) => (200, b.bytes.clone(), b.content_type),
                None => (404, b"BlobNotFound".to_vec(), "text/plain"),
            }
        }
    };
    http::respond(request, status, body, Some(content_type), &[]);
}
