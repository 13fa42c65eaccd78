//! Remote URLs: which forge repository a remote points at, and URLs safe to print. The one
//! parser for both the GitHub client (which host's API, which token) and the push.

/// How a remote is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    /// Plain http: a token never travels over it (except to the loopback host, for tests).
    Http,
    /// `ssh://` or scp-like `host:path`: keys and `~/.ssh/config`, never a token.
    Ssh,
    /// `git://`: unauthenticated.
    Git,
}

/// The forge repository a remote URL points at: `host` is lower-case; for http(s) it keeps a
/// non-default port (`ghe.corp:8443`, as git's credential protocol names it), for ssh the port
/// is dropped (an ssh port says nothing about where the API is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRepo {
    pub scheme: Scheme,
    pub host: String,
    pub owner: String,
    pub name: String,
}

impl RemoteRepo {
    /// `owner/name`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    pub fn is_github_com(&self) -> bool {
        self.host == "github.com" || self.host == "www.github.com"
    }
}

/// Parses `https://github.com/o/r(.git)`, `git@github.com:o/r.git`,
/// `ssh://git@host:22/o/r.git`, `git://host/o/r` and the same shapes on GitHub Enterprise
/// hosts. Local paths and `file://` URLs give `None`.
pub fn parse_remote_url(url: &str) -> Option<RemoteRepo> {
    let url = url.trim();
    if let Some((scheme, rest)) = url.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        let (kind, keep_port) = match scheme.as_str() {
            "https" => (Scheme::Https, true),
            "http" => (Scheme::Http, true),
            "ssh" | "git+ssh" | "ssh+git" => (Scheme::Ssh, false),
            "git" => (Scheme::Git, false),
            _ => return None,
        };
        let (authority, path) = rest.split_once('/')?;
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host = if keep_port {
            strip_default_port(host_port, &scheme)
        } else {
            strip_port(host_port)
        };
        return from_host_and_path(kind, host, path);
    }
    // scp-like syntax: [user@]host:owner/name.git (no slash before the colon).
    let (before, path) = url.split_once(':')?;
    if before.contains('/') || before.is_empty() {
        return None;
    }
    let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
    // A Windows drive letter (C:\...) is a path, not a host.
    if host.len() == 1 {
        return None;
    }
    from_host_and_path(Scheme::Ssh, host, path)
}

fn strip_port(host_port: &str) -> &str {
    if host_port.starts_with('[') {
        // [ipv6]:port
        return host_port
            .split_once(']')
            .map_or(host_port, |(h, _)| &host_port[..h.len() + 1]);
    }
    host_port.split_once(':').map_or(host_port, |(h, _)| h)
}

fn strip_default_port<'a>(host_port: &'a str, scheme: &str) -> &'a str {
    match host_port.rsplit_once(':') {
        Some((host, "443")) if scheme == "https" => host,
        Some((host, "80")) if scheme == "http" => host,
        _ => host_port,
    }
}

fn from_host_and_path(scheme: Scheme, host: &str, path: &str) -> Option<RemoteRepo> {
    if host.is_empty() {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.len() < 2 {
        return None;
    }
    let owner = segments[segments.len() - 2];
    let name = segments[segments.len() - 1];
    let name = name.strip_suffix(".git").unwrap_or(name);
    if owner.is_empty() || name.is_empty() {
        return None;
    }
    Some(RemoteRepo {
        scheme,
        host: host.to_ascii_lowercase(),
        owner: owner.to_string(),
        name: name.to_string(),
    })
}

/// The URL with any user-info of an http(s) URL replaced by `***`, so that a token embedded
/// in a remote URL never reaches an error message or log.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return url.to_string();
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(host: &str, owner: &str, name: &str) -> Option<(String, String, String)> {
        Some((host.into(), owner.into(), name.into()))
    }

    /// (host, owner, name): the scheme is checked on its own.
    fn parse_remote_url(url: &str) -> Option<(String, String, String)> {
        super::parse_remote_url(url).map(|r| (r.host, r.owner, r.name))
    }

    #[test]
    fn schemes() {
        let scheme = |u: &str| super::parse_remote_url(u).map(|r| r.scheme);
        assert_eq!(scheme("https://h/o/r"), Some(Scheme::Https));
        assert_eq!(scheme("http://h/o/r"), Some(Scheme::Http));
        assert_eq!(scheme("ssh://h/o/r"), Some(Scheme::Ssh));
        assert_eq!(scheme("alias:o/r.git"), Some(Scheme::Ssh));
        assert_eq!(scheme("git://h/o/r"), Some(Scheme::Git));
    }

    #[test]
    fn https_forms() {
        let want = repo("github.com", "o", "r");
        assert_eq!(parse_remote_url("https://github.com/o/r.git"), want);
        assert_eq!(parse_remote_url("https://github.com/o/r"), want);
        assert_eq!(parse_remote_url("https://github.com/o/r/"), want);
        assert_eq!(parse_remote_url("https://GitHub.com/o/r.git"), want);
        assert_eq!(
            parse_remote_url("https://x-access-token:t@github.com/o/r"),
            want
        );
        assert_eq!(parse_remote_url("https://github.com:443/o/r.git"), want);
        assert_eq!(parse_remote_url("http://github.com/o/r.git"), want);
    }

    #[test]
    fn ssh_forms() {
        let want = repo("github.com", "o", "r");
        assert_eq!(parse_remote_url("git@github.com:o/r.git"), want);
        assert_eq!(parse_remote_url("git@github.com:o/r"), want);
        assert_eq!(parse_remote_url("github.com:o/r.git"), want);
        assert_eq!(parse_remote_url("ssh://git@github.com:22/o/r.git"), want);
        assert_eq!(parse_remote_url("ssh://git@github.com/o/r.git"), want);
        assert_eq!(parse_remote_url("git+ssh://git@github.com/o/r.git"), want);
        assert_eq!(parse_remote_url("git://github.com/o/r.git"), want);
    }

    #[test]
    fn enterprise_hosts() {
        assert_eq!(
            parse_remote_url("https://ghe.corp.example/team/project.git"),
            repo("ghe.corp.example", "team", "project")
        );
        assert_eq!(
            parse_remote_url("https://ghe.corp.example:8443/team/project"),
            repo("ghe.corp.example:8443", "team", "project")
        );
        assert_eq!(
            parse_remote_url("git@ghe.corp.example:team/project.git"),
            repo("ghe.corp.example", "team", "project")
        );
        assert_eq!(
            parse_remote_url("ssh://git@ghe.corp.example:7999/team/project.git"),
            repo("ghe.corp.example", "team", "project")
        );
    }

    #[test]
    fn not_forge_urls() {
        assert_eq!(parse_remote_url("/srv/git/remote.git"), None);
        assert_eq!(parse_remote_url("../remote.git"), None);
        assert_eq!(parse_remote_url("file:///srv/git/o/r.git"), None);
        assert_eq!(parse_remote_url("C:\\repos\\r.git"), None);
        assert_eq!(parse_remote_url("https://github.com/onlyowner"), None);
        assert_eq!(parse_remote_url(""), None);
    }

    #[test]
    fn redacts_userinfo_of_http_urls() {
        assert_eq!(
            redact_url("https://x-access-token:ghp_abc@github.com/o/r.git"),
            "https://***@github.com/o/r.git"
        );
        assert_eq!(
            redact_url("https://ghp_abc@github.com/o/r"),
            "https://***@github.com/o/r"
        );
        assert_eq!(
            redact_url("https://github.com/o/r"),
            "https://github.com/o/r"
        );
        assert_eq!(
            redact_url("git@github.com:o/r.git"),
            "git@github.com:o/r.git"
        );
    }
}
