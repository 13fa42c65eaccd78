//! The GitHub client against the OpenAPI-checked fake server (`helper::fake_github`).
//! Every fake asserts zero schema violations when it is dropped.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chrono::Utc;
use trackit::github::{Client, Config, GithubError, RetryPolicy, Secret, STATUS_MARKER};

use crate::helper::fake_github::{FakeGithub, Fault, RunPlan, OWNER, REPO, TEST_TOKEN};

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        max_total_wait: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
    }
}

fn client(fake: &FakeGithub) -> Client {
    let config = Config::from_env_map(&fake.env(), None).expect("config");
    Client::with_retry(config, fast_retry()).expect("client")
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn ensure_pr_is_idempotent() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let first = gh
        .ensure_pr(
            "results/exp-1",
            "main",
            "Results: exp-1",
            "| run | PENDING |",
        )
        .await
        .expect("first ensure_pr");
    let second = gh
        .ensure_pr(
            "results/exp-1",
            "main",
            "Results: exp-1",
            "| run | PENDING |",
        )
        .await
        .expect("second ensure_pr");
    assert_eq!(first.number, second.number);
    assert_eq!(first.head.ref_name, "results/exp-1");
    assert_eq!(fake.pulls().len(), 1);
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/pulls"))
        .count();
    assert_eq!(posts, 1);
    // The lookup filters on the server with head=owner:branch.
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.url.contains(&format!("head={OWNER}%3Aresults%2Fexp-1"))));
    // Another branch gets its own PR.
    let other = gh
        .ensure_pr("results/exp-2", "main", "Results: exp-2", "")
        .await
        .expect("other");
    assert_ne!(other.number, first.number);
}

#[tokio::test]
async fn status_comment_is_edited_not_duplicated() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let pr = gh
        .ensure_pr("results/a", "main", "t", "b")
        .await
        .expect("pr");
    gh.create_comment(pr.number, "a human comment")
        .await
        .expect("comment");
    let first = gh
        .upsert_status_comment(pr.number, STATUS_MARKER, "attempt 1: running")
        .await
        .expect("first upsert");
    let second = gh
        .upsert_status_comment(
            pr.number,
            STATUS_MARKER,
            "attempt 2: failed (OOM), relaunched",
        )
        .await
        .expect("second upsert");
    assert_eq!(first.id, second.id);
    let comments = fake.comments(pr.number);
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert_eq!(comments[0].1, "a human comment");
    assert_eq!(
        comments[1].1,
        format!("{STATUS_MARKER}\nattempt 2: failed (OOM), relaunched")
    );
    // Same text again: no write at all.
    let patches_before = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    gh.upsert_status_comment(
        pr.number,
        STATUS_MARKER,
        "attempt 2: failed (OOM), relaunched",
    )
    .await
    .expect("third upsert");
    let patches_after = fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(patches_before, 1);
    assert_eq!(patches_after, 1);
}

#[tokio::test]
async fn update_pr_patches_only_the_body() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let pr = gh
        .ensure_pr("results/b", "main", "Results: b", "| loss | PENDING |")
        .await
        .expect("pr");
    let updated = gh
        .update_pr(pr.number, None, Some("| loss | 0.123 |"))
        .await
        .expect("patch");
    assert_eq!(updated.body.as_deref(), Some("| loss | 0.123 |"));
    assert_eq!(updated.title, "Results: b");
    let (_, _, _, _, title, body) = fake.pulls().remove(0);
    assert_eq!(
        (title.as_str(), body.as_str()),
        ("Results: b", "| loss | 0.123 |")
    );
    let patch = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("a PATCH");
    let sent: serde_json::Value = serde_json::from_str(&patch.body).expect("json body");
    assert_eq!(sent, serde_json::json!({"body": "| loss | 0.123 |"}));
    let fetched = gh.get_pr(pr.number).await.expect("get");
    assert_eq!(fetched.body.as_deref(), Some("| loss | 0.123 |"));
}

#[tokio::test]
async fn comments_are_paginated_through_link_headers() {
    let fake = FakeGithub::start();
    let gh = client(&fake).with_per_page(30);
    let pr = gh
        .ensure_pr("results/c", "main", "t", "b")
        .await
        .expect("pr");
    fake.seed_comments(pr.number, (0..75).map(|i| format!("comment {i}")));
    let comments = gh.list_comments(pr.number).await.expect("list");
    assert_eq!(comments.len(), 75);
    let bodies: Vec<String> = comments.iter().filter_map(|c| c.body.clone()).collect();
    assert_eq!(bodies[0], "comment 0");
    assert_eq!(bodies[74], "comment 74");
    let gets: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path().ends_with("/comments"))
        .map(|r| r.url)
        .collect();
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert!(gets[0].contains("per_page=30"));
    assert!(gets[2].contains("page=3"));
}

#[tokio::test]
async fn labels_are_added() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let pr = gh
        .ensure_pr("results/l", "main", "t", "b")
        .await
        .expect("pr");
    let labels = gh
        .add_labels(pr.number, &["trackit", "failed"])
        .await
        .expect("labels");
    let names: Vec<&str> = labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["trackit", "failed"]);
    assert_eq!(fake.labels(pr.number), ["trackit", "failed"]);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    fake.inject([Fault::Status(500), Fault::Status(502)]);
    let pr = gh
        .find_open_pr("results/none")
        .await
        .expect("after retries");
    assert!(pr.is_none());
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    fake.inject([Fault::RetryAfter {
        status: 429,
        secs: 1,
    }]);
    let started = Instant::now();
    gh.rate_limit().await.expect("after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // A secondary limit on 403 with retry-after is waited out the same way.
    fake.inject([Fault::RetryAfter {
        status: 403,
        secs: 1,
    }]);
    let started = Instant::now();
    let limits = gh.rate_limit().await.expect("after waiting");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(limits.core.limit, 5000);
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn primary_rate_limit_waits_for_reset() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 1;
    fake.inject([Fault::PrimaryRateLimit { secs: 1 }]);
    gh.find_open_pr("results/x").await.expect("after the reset");
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        SystemTime::now() >= UNIX_EPOCH + Duration::from_secs(reset),
        "retried before x-ratelimit-reset"
    );
}

#[tokio::test]
async fn persistent_outage_is_a_bounded_transient_error() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    fake.start_outage(503);
    let started = Instant::now();
    let err = gh
        .ensure_pr("results/d", "main", "t", "b")
        .await
        .expect_err("GitHub is down");
    assert!(err.is_transient(), "{err}");
    assert!(
        matches!(err, GithubError::Unreachable { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(fake.requests().len(), 4);
    assert!(err.to_string().contains("503"), "{err}");

    // A rate limit that resets beyond the wait budget fails at once, also transient.
    fake.end_outage();
    fake.inject([Fault::PrimaryRateLimit { secs: 3600 }]);
    let started = Instant::now();
    let err = gh.rate_limit().await.expect_err("limit beyond budget");
    assert!(matches!(err, GithubError::RateLimited { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(2));

    // A closed port: network errors are transient too.
    let mut config = Config::from_env_map(&fake.env(), None).expect("config");
    config.api_base = "http://127.0.0.1:9".into();
    let err = Client::with_retry(config, fast_retry())
        .expect("client")
        .rate_limit()
        .await
        .expect_err("nothing listens");
    assert!(err.is_transient(), "{err}");

    // A plain 404 is not.
    let err = gh.get_pr(999).await.expect_err("no such PR");
    assert!(!err.is_transient());
    assert_eq!(err.status(), Some(404));
}

/// Dispatch, find the run by listing (no run id comes back), poll it to completion, read the
/// failed job's log.
async fn dispatch_and_follow(fake: &FakeGithub) {
    let gh = client(fake);
    let earlier = fake.seed_run(
        "gpu.yml",
        "results/e",
        "workflow_dispatch",
        Utc::now() - chrono::Duration::hours(1),
    );
    fake.plan_next_run(RunPlan {
        conclusion: "failure".into(),
        jobs: vec![
            ("setup".into(), "success".into(), "setup ok\n".into()),
            (
                "train".into(),
                "failure".into(),
                "step 100 loss 2.3\ntorch.OutOfMemoryError: CUDA out of memory.\n".into(),
            ),
        ],
    });
    let since = Utc::now() - chrono::Duration::seconds(2);
    let known: HashSet<u64> = gh
        .list_workflow_runs(
            "gpu.yml",
            Some("workflow_dispatch"),
            Some("results/e"),
            None,
        )
        .await
        .expect("runs before")
        .iter()
        .map(|r| r.id)
        .collect();
    assert!(known.contains(&earlier));
    let inputs = serde_json::Map::from_iter([("lr".to_string(), serde_json::json!("3e-4"))]);
    let run_id = gh
        .dispatch_once("gpu.yml", "results/e", &inputs)
        .await
        .expect("dispatch");
    let posted: serde_json::Value = serde_json::from_str(
        &fake
            .requests()
            .into_iter()
            .find(|r| r.path().ends_with("/dispatches"))
            .expect("the dispatch")
            .body,
    )
    .unwrap();
    if fake.api_url().ends_with("/api/v3") {
        // GitHub Enterprise Server has no return_run_details: no id, find the run by listing.
        assert_eq!(run_id, None);
        assert!(posted.get("return_run_details").is_none(), "{posted}");
    } else {
        assert!(
            run_id.is_some(),
            "github.com returns the run id with return_run_details"
        );
        assert_eq!(posted["return_run_details"], true);
    }

    let mut found = None;
    for _ in 0..10 {
        found = gh
            .find_dispatched_run("gpu.yml", "results/e", since, &known)
            .await
            .expect("list runs");
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run = found.expect("the dispatched run");
    assert_ne!(run.id, earlier);
    if let Some(id) = run_id {
        assert_eq!(run.id, id);
    }
    assert_eq!(run.event, "workflow_dispatch");

    let mut statuses = vec![run.status.clone().unwrap_or_default()];
    let mut current = run.clone();
    for _ in 0..10 {
        if current.is_completed() {
            break;
        }
        current = gh.get_run(run.id).await.expect("get run");
        statuses.push(current.status.clone().unwrap_or_default());
    }
    assert!(current.is_completed(), "{statuses:?}");
    assert!(
        statuses.contains(&"in_progress".to_string()),
        "{statuses:?}"
    );
    assert_eq!(current.conclusion.as_deref(), Some("failure"));

    let again = gh
        .wait_for_run(run.id, Duration::from_millis(10), 5)
        .await
        .expect("wait_for_run");
    assert_eq!(again.conclusion.as_deref(), Some("failure"));

    let jobs = gh.list_run_jobs(run.id).await.expect("jobs");
    assert_eq!(jobs.len(), 2);
    let failed = jobs
        .iter()
        .find(|j| j.conclusion.as_deref() == Some("failure"))
        .expect("a failed job");
    assert_eq!(failed.name, "train");
    let log = gh.download_job_logs(failed.id).await.expect("logs");
    assert!(log.contains("CUDA out of memory"), "{log}");

    let list = fake
        .requests()
        .into_iter()
        .find(|r| r.url.contains("created="))
        .expect("a runs query with created");
    assert!(list.url.contains("event=workflow_dispatch"), "{}", list.url);
    assert!(list.url.contains("created=%3E%3D"), "{}", list.url);
    let blob = fake
        .blob_requests()
        .into_iter()
        .find(|r| r.path().starts_with("/job-logs/"))
        .expect("the redirected log download, on the storage host");
    assert!(!blob.authorized, "the token must not follow the redirect");
}

#[tokio::test]
async fn dispatch_find_poll_and_read_failed_job_logs() {
    let fake = FakeGithub::start();
    dispatch_and_follow(&fake).await;
}

#[tokio::test]
async fn ghes_serves_everything_under_api_v3() {
    let fake = FakeGithub::start_ghes();
    assert!(fake.api_url().ends_with("/api/v3"));
    dispatch_and_follow(&fake).await;
    let gh = client(&fake);
    let pr = gh
        .ensure_pr("results/g", "main", "Results", "PENDING")
        .await
        .expect("pr");
    gh.upsert_status_comment(pr.number, STATUS_MARKER, "running")
        .await
        .expect("comment");
    gh.add_labels(pr.number, &["trackit"])
        .await
        .expect("labels");
    gh.rate_limit().await.expect("rate limit");
    for request in fake.requests() {
        assert!(request.path().starts_with("/api/v3/"), "{}", request.url);
    }
}

#[tokio::test]
async fn the_fake_rejects_requests_outside_the_description() {
    let fake = FakeGithub::start();
    let http = reqwest::Client::new();
    let base = fake.api_url();
    let send = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
        let mut request = http
            .request(method, format!("{base}{path}"))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header("User-Agent", "trackit/test")
            .bearer_auth(TEST_TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let pulls = format!("/repos/{OWNER}/{REPO}/pulls");
    // `head` and `base` are required.
    let response = send(
        reqwest::Method::POST,
        &pulls,
        Some(serde_json::json!({"title": "x"})),
    )
    .await
    .expect("send");
    assert_eq!(response.status(), 422);
    // Not an operation of the description.
    let response = send(reqwest::Method::DELETE, &pulls, None)
        .await
        .expect("send");
    assert_eq!(response.status(), 404);
    // A path parameter of the wrong type.
    let response = send(
        reqwest::Method::GET,
        &format!("/repos/{OWNER}/{REPO}/pulls/abc"),
        None,
    )
    .await
    .expect("send");
    assert_eq!(response.status(), 422);
    // An unknown query parameter.
    let response = send(reqwest::Method::GET, &format!("{pulls}?colour=red"), None)
        .await
        .expect("send");
    assert_eq!(response.status(), 422);
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 5, "{violations:#?}");
    assert!(violations[0].contains("\"head\" is a required property"));
    assert!(violations[1].contains("\"base\" is a required property"));
    assert!(violations[2].contains("no DELETE operation"));
    assert!(violations[3].contains("not of type \"integer\""));
    assert!(violations[4].contains("unknown query parameter colour"));
}

#[test]
fn config_resolution_follows_gh() {
    let remote = Some("git@github.com:alice/exp.git");
    let config = Config::from_env_map(&env(&[("GH_TOKEN", "a"), ("GITHUB_TOKEN", "b")]), remote)
        .expect("config");
    assert_eq!(config.token, Some(Secret::new("a")));
    assert_eq!(config.api_base, "https://api.github.com");
    assert_eq!(config.repo.to_string(), "alice/exp");

    let config = Config::from_env_map(&env(&[("GITHUB_TOKEN", "b")]), remote).expect("config");
    assert_eq!(config.token, Some(Secret::new("b")));

    let config = Config::from_env_map(&env(&[]), remote).expect("config");
    assert_eq!(config.token, None);

    let config =
        Config::from_env_map(&env(&[("GITHUB_REPOSITORY", "org/other")]), remote).expect("config");
    assert_eq!(config.repo.to_string(), "org/other");

    let config = Config::from_env_map(
        &env(&[("GITHUB_API_URL", "http://127.0.0.1:8080/api/v3/")]),
        remote,
    )
    .expect("config");
    assert_eq!(config.api_base, "http://127.0.0.1:8080/api/v3");

    let config =
        Config::from_env_map(&env(&[("GH_HOST", "ghe.example.org")]), remote).expect("config");
    assert_eq!(config.api_base, "https://ghe.example.org/api/v3");

    let config =
        Config::from_env_map(&env(&[]), Some("https://ghe.corp/team/proj.git")).expect("config");
    assert_eq!(config.api_base, "https://ghe.corp/api/v3");
    assert_eq!(config.repo.to_string(), "team/proj");

    let config =
        Config::from_env_map(&env(&[]), Some("ssh://git@github.com/o/r.git")).expect("config");
    assert_eq!(config.api_base, "https://api.github.com");

    let config = Config::resolve_with(&env(&[]), remote, |host| {
        assert_eq!(host, "github.com");
        Some("from-gh".into())
    })
    .expect("config");
    assert_eq!(config.token, Some(Secret::new("from-gh")));

    let err = Config::from_env_map(&env(&[]), None).expect_err("no repository");
    assert!(!err.is_transient());
    assert!(Config::from_env_map(&env(&[]), Some("/tmp/not-a-remote")).is_err());
}

#[tokio::test]
async fn the_token_never_leaks() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let pr = gh
        .ensure_pr("results/t", "main", "t", "b")
        .await
        .expect("pr");
    gh.upsert_status_comment(pr.number, STATUS_MARKER, "x")
        .await
        .expect("comment");
    let mut texts = vec![format!("{gh:?}"), format!("{:?}", gh.config())];
    let not_found = gh.get_pr(4242).await.expect_err("404");
    texts.push(not_found.to_string());
    texts.push(format!("{not_found:?}"));
    fake.start_outage(500);
    let outage = gh.rate_limit().await.expect_err("outage");
    texts.push(outage.to_string());
    texts.push(format!("{outage:?}"));
    fake.end_outage();
    let secret = Secret::new(TEST_TOKEN);
    texts.push(format!("{secret} {secret:?}"));
    for text in &texts {
        assert!(!text.contains(TEST_TOKEN), "token in: {text}");
    }
    let requests = fake.requests();
    assert!(requests.iter().all(|r| r.authorized));
    for request in requests {
        assert!(!request.url.contains(TEST_TOKEN));
        assert!(!request.body.contains(TEST_TOKEN));
        assert!(request.headers.iter().all(|(_, v)| !v.contains(TEST_TOKEN)));
    }
}

/// Tokens are bound to hosts as gh binds them: GH_TOKEN/GITHUB_TOKEN for github.com, the
/// enterprise tokens for the GH_HOST host, nothing for any other host.
#[test]
fn the_token_is_bound_to_its_host() {
    let both = [
        ("GH_TOKEN", "dotcom"),
        ("GH_HOST", "ghe.corp"),
        ("GH_ENTERPRISE_TOKEN", "enterprise"),
    ];
    let token = |pairs: &[(&str, &str)], remote: &str| {
        Config::from_env_map(&env(pairs), Some(remote))
            .expect("config")
            .token
            .map(|t| t.expose().to_string())
    };
    assert_eq!(
        token(&[("GH_TOKEN", "dotcom")], "git@github.com:o/r.git").as_deref(),
        Some("dotcom")
    );
    // GitLab, a mirror, an ssh alias: no token, and the config says how to set one up.
    for remote in [
        "https://gitlab.com/o/r.git",
        "https://git.mirror.example:8443/o/r",
        "work-alias:o/r.git",
    ] {
        let config =
            Config::from_env_map(&env(&[("GH_TOKEN", "dotcom")]), Some(remote)).expect("config");
        assert_eq!(config.token, None, "{remote}");
        let why = config.token_missing.expect("a reason");
        assert!(why.contains("GH_HOST="), "{why}");
    }
    // GH_HOST names the enterprise server; its token goes there and only there.
    let config = Config::from_env_map(&env(&both), Some("https://ghe.corp/o/r.git")).unwrap();
    assert_eq!(
        config.token.as_ref().map(Secret::expose),
        Some("enterprise")
    );
    assert_eq!(config.api_base, "https://ghe.corp/api/v3");
    assert_eq!(
        token(
            &[("GH_ENTERPRISE_TOKEN", "enterprise")],
            "https://ghe.corp/o/r.git"
        ),
        None,
        "an enterprise token without GH_HOST goes nowhere"
    );
    // GH_REPO says an ssh alias is github.com.
    let config = Config::from_env_map(
        &env(&[("GH_TOKEN", "dotcom"), ("GH_REPO", "alice/exp")]),
        Some("work-alias:alice/exp.git"),
    )
    .unwrap();
    assert_eq!(config.host, "github.com");
    assert_eq!(config.token.as_ref().map(Secret::expose), Some("dotcom"));
    // gh is asked for the repository's own host only.
    let config = Config::resolve_with(&env(&[]), Some("https://gitlab.com/o/r.git"), |host| {
        (host == "gitlab.com").then(|| "gh-gitlab".to_string())
    })
    .unwrap();
    assert_eq!(config.token.as_ref().map(Secret::expose), Some("gh-gitlab"));
}

/// A repository whose origin is not on GitHub never sends the token, even when the API URL
/// points at a (fake) GitHub.
#[tokio::test]
async fn a_remote_off_github_sends_no_token() {
    let fake = FakeGithub::start();
    let mut vars = fake.env();
    vars.remove("GITHUB_REPOSITORY");
    let config = Config::from_env_map(
        &vars,
        Some(&format!("https://gitlab.example/{OWNER}/{REPO}.git")),
    )
    .expect("config");
    assert!(config.token.is_none());
    let gh = Client::with_retry(config, fast_retry()).expect("client");
    let err = gh.get_pr(1).await.expect_err("unauthenticated");
    assert_eq!(err.status(), Some(401), "{err}");
    let requests = fake.requests();
    assert!(!requests.is_empty());
    assert!(requests.iter().all(|r| !r.authorized), "{requests:?}");
}

/// A `Link` header naming another origin is not followed: the token would go with it.
#[tokio::test]
async fn pagination_stays_on_the_api_origin() {
    let fake = FakeGithub::start();
    let elsewhere = FakeGithub::start();
    let gh = client(&fake).with_per_page(2);
    let pr = gh
        .ensure_pr("results/p", "main", "t", "b")
        .await
        .expect("pr");
    fake.seed_comments(pr.number, (0..5).map(|i| format!("comment {i}")));
    fake.set_link_origin(&elsewhere.api_url().replace("/api/v3", ""));
    let err = gh.list_comments(pr.number).await.expect_err("refused");
    assert!(err.to_string().contains("pagination link refused"), "{err}");
    assert!(
        elsewhere.requests().is_empty(),
        "followed a link off the API origin"
    );
}

/// A comment POST whose reply is lost (GitHub created it, the client saw 502) is not sent again
/// blindly: the comments are listed and the marker found.
#[tokio::test]
async fn a_comment_whose_reply_was_lost_is_not_posted_twice() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let pr = gh
        .ensure_pr("results/m", "main", "t", "b")
        .await
        .expect("pr");
    let marker = "<!-- trackit:milestone track=t final -->";
    fake.lose_next_reply(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    );
    let comment = gh
        .ensure_comment(pr.number, marker, &format!("{marker}\nfinal result"))
        .await
        .expect("found after the lost reply");
    assert!(comment.body.unwrap_or_default().contains(marker));
    let with_marker = fake
        .comments(pr.number)
        .iter()
        .filter(|(_, c)| c.contains(marker))
        .count();
    assert_eq!(with_marker, 1, "posted twice");
    // Asked again (a resumed tracker): still one.
    gh.ensure_comment(pr.number, marker, &format!("{marker}\nfinal result"))
        .await
        .expect("ensure");
    let posts = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path().ends_with("/comments"))
        .count();
    assert_eq!(posts, 1);
}

/// Responses that lack fields trackit does not use (as older GHES versions' do) still work.
#[tokio::test]
async fn responses_lacking_unused_fields_still_work() {
    let fake = FakeGithub::start();
    let gh = client(&fake);
    let pr_fields = [
        "id",
        "title",
        "state",
        "base",
        "html_url",
        "created_at",
        "updated_at",
        "user",
        "draft",
    ];
    let comment_fields = ["html_url", "created_at", "updated_at", "user", "node_id"];
    for (method, template, fields) in [
        ("POST", "/repos/{owner}/{repo}/pulls", &pr_fields[..]),
        ("GET", "/repos/{owner}/{repo}/pulls", &pr_fields[..]),
        (
            "PATCH",
            "/repos/{owner}/{repo}/pulls/{pull_number}",
            &pr_fields[..],
        ),
        (
            "POST",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            &comment_fields[..],
        ),
        (
            "GET",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            &comment_fields[..],
        ),
        (
            "PATCH",
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            &comment_fields[..],
        ),
    ] {
        fake.omit_fields(method, template, fields);
    }
    let pr = gh
        .ensure_pr("results/f", "main", "t", "b")
        .await
        .expect("pr");
    let again = gh
        .ensure_pr("results/f", "main", "t", "b")
        .await
        .expect("found");
    assert_eq!(pr.number, again.number);
    gh.update_pr(pr.number, None, Some("new body"))
        .await
        .expect("patch");
    let c = gh
        .upsert_status_comment(pr.number, STATUS_MARKER, "one")
        .await
        .expect("status");
    assert!(c.id > 0);
    gh.upsert_status_comment(pr.number, STATUS_MARKER, "two")
        .await
        .expect("status edited");
    assert_eq!(fake.comments(pr.number).len(), 1);
}
