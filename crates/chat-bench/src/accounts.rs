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
/// logs each in; returns their tokens in order.
pub(crate) async fn tokens(
    http: &reqwest::Client,
    base: &str,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tasks = JoinSet::new();
    for i in 0..count {
        let (http, base, name, permits) = (http.clone(), base.to_owned(), username(prefix, i), Arc::clone(&permits));
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
/// successful logins and each one's latency in microseconds.
pub(crate) async fn login_storm(
    http: &reqwest::Client,
    base: &str,
    usernames: Vec<String>,
    concurrency: usize,
    until: Instant,
) -> anyhow::Result<(u64, crate::stats::Latency)> {
    let mut tasks = JoinSet::new();
    for c in 0..concurrency.max(1) {
        let (http, base, names) = (http.clone(), base.to_owned(), usernames.clone());
        tasks.spawn(async move {
            let mut latency = crate::stats::Latency::new()?;
            let mut ok = 0u64;
            let mut i = c;
            while Instant::now() < until {
                let name = &names[i % names.len()];
                let started = Instant::now();
                login(&http, &base, name).await?;
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
