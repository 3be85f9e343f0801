//! Bench users: registered (or reused) and logged in over the real HTTP
//! routes. A modest number of users is enough: each token opens many
//! connections.

use std::{sync::Arc, time::Instant};

use anyhow::{Context, bail};
use chat_api::http::{LoginRequest, LoginResponse, RegisterRequest};
use reqwest::StatusCode;
use tokio::{sync::Semaphore, task::JoinSet};

/// The password of every bench user.
pub(crate) const PASSWORD: &str = "bench-password-not-secret";

/// Hashing is the server's cost here; more in flight only queues there.
const IN_FLIGHT: usize = 8;

/// `<prefix><i>` for `i` in `0..count`.
pub(crate) fn username(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:05}")
}

/// Registers `count` users (an existing one is reused: same password) and
/// logs each in; returns their tokens in order. User `i` registers and
/// logs in at node `bases[i % bases.len()]` (the nodes of one cluster share
/// accounts and token secret, so every token is good on every node).
pub(crate) async fn tokens(
    http: &reqwest::Client,
    bases: &[String],
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(!bases.is_empty(), "no server to log in at");
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let base = bases[i % bases.len()].clone();
        let (http, name, permits) = (http.clone(), username(prefix, i), Arc::clone(&permits));
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            register(&http, &base, &name).await?;
            Ok::<_, anyhow::Error>((i, login(&http, &base, &name).await?))
        });
    }
    let mut tokens = vec![String::new(); count];
    while let Some(done) = tasks.join_next().await {
        let (i, token) = done??;
        tokens[i] = token;
    }
    Ok(tokens)
}

async fn register(http: &reqwest::Client, base: &str, username: &str) -> anyhow::Result<()> {
    let body = RegisterRequest { username: username.to_owned(), password: PASSWORD.to_owned(), display_name: None };
    let response = http.post(format!("{base}/auth/register")).json(&body).send().await.context("register")?;
    match response.status() {
        StatusCode::CREATED | StatusCode::CONFLICT => Ok(()),
        status => bail!("register {username}: HTTP {status}: {}", response.text().await.unwrap_or_default()),
    }
}

/// Logs `username` in; returns the token.
pub(crate) async fn login(http: &reqwest::Client, base: &str, username: &str) -> anyhow::Result<String> {
    let body = LoginRequest { username: username.to_owned(), password: PASSWORD.to_owned() };
    let response = http.post(format!("{base}/auth/login")).json(&body).send().await.context("login")?;
    let status = response.status();
    if status != StatusCode::OK {
        bail!("login {username}: HTTP {status}: {}", response.text().await.unwrap_or_default());
    }
    Ok(response.json::<LoginResponse>().await?.token)
}

/// Logs in as fast as `concurrency` loops can until `until`; returns the
/// successful logins and each one's latency in microseconds. The `n`-th
/// login of the storm goes to node `bases[n % bases.len()]`.
pub(crate) async fn login_storm(
    http: &reqwest::Client,
    bases: &[String],
    usernames: Vec<String>,
    concurrency: usize,
    until: Instant,
) -> anyhow::Result<(u64, crate::stats::Latency)> {
    anyhow::ensure!(!bases.is_empty(), "no server to log in at");
    let mut tasks = JoinSet::new();
    for c in 0..concurrency.max(1) {
        let (http, bases, names) = (http.clone(), bases.to_vec(), usernames.clone());
        tasks.spawn(async move {
            let mut latency = crate::stats::Latency::new()?;
            let mut ok = 0u64;
            let mut i = c;
            while Instant::now() < until {
                let name = &names[i % names.len()];
                let base = &bases[i % bases.len()];
                let started = Instant::now();
                login(&http, base, name).await?;
                latency.record_us(started.elapsed().as_micros() as u64);
                ok += 1;
                i += concurrency;
            }
            Ok::<_, anyhow::Error>((ok, latency))
        });
    }
    let mut total = 0;
    let mut latency = crate::stats::Latency::new()?;
    while let Some(done) = tasks.join_next().await {
        let (ok, l) = done??;
        total += ok;
        latency.add(&l.to_buckets());
    }
    Ok((total, latency))
}
