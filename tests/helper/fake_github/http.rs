//! The loopback HTTP server under both of the fake's hosts (the API and the storage host): a
//! listener on a free port, answered on a thread of its own until it is stopped.

use std::sync::Arc;
use std::thread::JoinHandle;

pub(super) struct Loopback {
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    origin: String,
    port: u16,
}

impl Loopback {
    /// Listens on `ip` (a loopback address) on a free port. Requests wait until
    /// [`Loopback::serve`].
    pub(super) fn bind(ip: &str) -> Loopback {
        let server = Arc::new(
            tiny_http::Server::http(format!("{ip}:0")).unwrap_or_else(|e| panic!("bind {ip}: {e}")),
        );
        let port = server.server_addr().to_ip().expect("an IP listener").port();
        Loopback {
            server,
            thread: None,
            origin: format!("http://{ip}:{port}"),
            port,
        }
    }

    /// Answers each request with `answer`, one at a time, on a thread of its own.
    pub(super) fn serve(&mut self, mut answer: impl FnMut(tiny_http::Request) + Send + 'static) {
        let server = Arc::clone(&self.server);
        self.thread = Some(std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                answer(request);
            }
        }));
    }

    /// `http://ip:port`
    pub(super) fn origin(&self) -> &str {
        &self.origin
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    /// Stops answering and waits for the request being answered.
    pub(super) fn stop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A request's headers, names in lower case.
pub(super) fn headers(request: &tiny_http::Request) -> Vec<(String, String)> {
    request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect()
}

/// Answers `request` with `status` and `body`, typed `content_type` when given, and `headers`.
pub(super) fn respond(
    request: tiny_http::Request,
    status: u16,
    body: Vec<u8>,
    content_type: Option<&str>,
    headers: &[(String, String)],
) {
    let mut response = tiny_http::Response::from_data(body).with_status_code(status);
    if let Some(content_type) = content_type {
        response.add_header(
            tiny_http::Header::from_bytes("Content-Type", content_type).expect("header"),
        );
    }
    for (name, value) in headers {
        response.add_header(
            tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header"),
        );
    }
    let _ = request.respond(response);
}
