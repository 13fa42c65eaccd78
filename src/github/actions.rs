//! GitHub Actions calls for the dispatch workflow: the workflow file at a ref, a dispatch that
//! is never re-POSTed blindly, cancelling a run, and a run's artifacts (fetched from the 302
//! `Location` without the token).

use super::*;

/// A run's artifact, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub expired: bool,
}

impl Client {
    /// The text of a file in the repository at `git_ref` (`GET /contents/{path}?ref=`).
    pub async fn file_at_ref(&self, path: &str, git_ref: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Contents {
            #[serde(default)]
            content: Option<String>,
            #[serde(default)]
            encoding: Option<String>,
        }
        let api_path = self.repo_path(&format!("/contents/{}", encode_path(path)));
        let c: Contents = self
            .get_json(&api_path, &[("ref", git_ref.to_string())])
            .await?;
        match (c.content, c.encoding.as_deref()) {
            (Some(text), Some("base64")) => {
                let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = decode_base64(&clean).ok_or_else(|| GithubError::Decode {
                    path: api_path.clone(),
                    message: "content is not valid base64".into(),
                })?;
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            // Files over 1 MB come without their content.
            (Some(_), Some("none")) => Err(GithubError::Decode {
                path: api_path,
                message: format!("{path} at {git_ref} is too large to read through the API"),
            }),
            (Some(text), _) => Ok(text),
            (None, _) => Err(GithubError::Decode {
                path: api_path,
                message: format!("{path} at {git_ref} is not a file"),
            }),
        }
    }

    /// One dispatch POST, never retried: a lost reply may still have created a run, so the
    /// caller looks for it before dispatching again. GitHub.com returns the new run's id
    /// (`return_run_details`); GitHub Enterprise Server (an API under `/api/v3`) has no such
    /// option and answers 204: `Ok(None)`, find the run by listing.
    pub async fn dispatch_once(
        &self,
        workflow_id: &str,
        git_ref: &str,
        inputs: &serde_json::Map<String, Value>,
    ) -> Result<Option<u64>> {
        let mut body = json!({ "ref": git_ref });
        if !inputs.is_empty() {
            body["inputs"] = Value::Object(inputs.clone());
        }
        if !self
            .config
            .api_base
            .trim_end_matches('/')
            .ends_with("/api/v3")
        {
            body["return_run_details"] = Value::Bool(true);
        }
        let path = self.repo_path(&format!("/actions/workflows/{workflow_id}/dispatches"));
        let url = self.url(&path, &[])?;
        let response =
            self.http
                .post(url)
                .json(&body)
                .send()
                .await
                .map_err(|e| GithubError::Unreachable {
                    attempts: 1,
                    waited: Duration::ZERO,
                    last: format!("POST {path}: {}", describe_transport_error(&e)),
                })?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| GithubError::Unreachable {
                attempts: 1,
                waited: Duration::ZERO,
                last: format!("POST {path}: {}", describe_transport_error(&e)),
            })?;
        let reply = Reply {
            status,
            headers,
            body: bytes.to_vec(),
        };
        self.note_rate_limit(&reply);
        match self.classify(&Method::POST, &path, reply) {
            Outcome::Done(reply) => {
                if reply.status == StatusCode::OK && !reply.body.is_empty() {
                    let details: Value = reply.json(&path)?;
                    return Ok(details.get("workflow_run_id").and_then(Value::as_u64));
                }
                Ok(None)
            }
            Outcome::Fatal(e) => Err(e),
            Outcome::Wait(_, why) | Outcome::Retry(why) => Err(GithubError::Unreachable {
                attempts: 1,
                waited: Duration::ZERO,
                last: format!("POST {path}: {why}"),
            }),
        }
    }

    /// Asks GitHub to cancel a run (202). A run that already finished answers 409: not an error
    /// for the caller, who wanted it stopped.
    pub async fn cancel_run(&self, run_id: u64) -> Result<()> {
        let path = self.repo_path(&format!("/actions/runs/{run_id}/cancel"));
        match self.send(Method::POST, self.url(&path, &[])?, None).await {
            Ok(_) => Ok(()),
            Err(GithubError::Api { status: 409, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub async fn list_run_artifacts(&self, run_id: u64) -> Result<Vec<Artifact>> {
        self.get_all(
            &self.repo_path(&format!("/actions/runs/{run_id}/artifacts")),
            &[],
            |mut page| page.get_mut("artifacts").map(Value::take),
        )
        .await
    }

    /// An artifact's zip archive. GitHub answers 302 to a signed URL on another host, which is
    /// fetched without the token.
    pub async fn download_artifact(&self, artifact_id: u64) -> Result<Vec<u8>> {
        let path = self.repo_path(&format!("/actions/artifacts/{artifact_id}/zip"));
        self.follow_redirect(&path).await
    }
}

/// Percent-encodes each segment of a repository path, keeping the slashes.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            seg.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Standard base64 (the contents API's encoding), padding optional.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_paths() {
        assert_eq!(decode_base64("aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("a$==").is_none());
        assert_eq!(
            encode_path(".github/workflows/a b.yml"),
            ".github/workflows/a%20b.yml"
        );
    }
}
