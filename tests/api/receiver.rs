//! A webhook receiver for the tests: a real HTTP server on 127.0.0.1 that keeps
//! every request it gets (headers, body, when it came and when it was answered) and
//! answers from a script (a queue of replies, then a rule on the body, then 200).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Request, Response};
use serde_json::Value;

/// How long [`Receiver::wait_for`] waits before it fails the test.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    /// Lower-cased names, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub arrived: Instant,
    /// When the answer went back (after any stall).
    pub answered: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// A status with one header.
    With(u16, &'static str, String),
    /// Waits this long, then answers 200.
    Stall(Duration),
    /// Waits this long, then answers with the status.
    Slow(Duration, u16),
}

type Rule = Box<dyn Fn(&Value) -> Option<Reply> + Send + Sync>;

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    rule: Mutex<Option<Rule>>,
}

/// A running receiver (it stops with the test's runtime).
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    pub port: u16,
    inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start() -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .expect("bind the receiver");
        let port = acceptor.local_addr()[0]
            .as_socket_addr()
            .expect("a socket address")
            .port();
        let inner = Arc::new(Inner::default());
        let handler = inner.clone();
        let endpoint = poem::endpoint::make(move |req: Request| {
            let inner = handler.clone();
            async move { answer(inner, req).await }
        });
        tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(endpoint));
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            port,
            inner,
        }
    }

    /// Queues replies for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.script.lock().unwrap().extend(replies);
    }

    /// Answers by `rule` (on the body) when no scripted reply is queued; `None` is 200.
    pub fn rule(&self, rule: impl Fn(&Value) -> Option<Reply> + Send + Sync + 'static) {
        *self.inner.rule.lock().unwrap() = Some(Box::new(rule));
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().unwrap().clone()
    }

    /// Waits until `n` requests (at least) have arrived, and returns them all.
    #[track_caller]
    pub fn wait_for(&self, n: usize) -> impl std::future::Future<Output = Vec<Received>> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let start = Instant::now();
            loop {
                let got = self.received();
                if got.len() >= n {
                    return got;
                }
                assert!(
                    start.elapsed() < PATIENCE,
                    "{caller}: {} requests arrived, waited for {n}",
                    got.len()
                );
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }

    /// Asserts that no request beyond the first `n` arrives within `window`.
    #[track_caller]
    pub fn stays_at(
        &self,
        n: usize,
        window: Duration,
    ) -> impl std::future::Future<Output = ()> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            let start = Instant::now();
            while start.elapsed() < window {
                let got = self.received().len();
                assert_eq!(got, n, "{caller}: requests arrived that should not have");
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }
}

async fn answer(inner: Arc<Inner>, req: Request) -> Response {
    let arrived = Instant::now();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let body = req.into_body().into_vec().await.unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let scripted = inner.script.lock().unwrap().pop_front();
    let reply = scripted
        .or_else(|| inner.rule.lock().unwrap().as_ref().and_then(|r| r(&parsed)))
        .unwrap_or(Reply::Status(200));
    let index = {
        let mut received = inner.received.lock().unwrap();
        received.push(Received {
            headers,
            body,
            arrived,
            answered: arrived,
        });
        received.len() - 1
    };
    let (status, header) = match reply {
        Reply::Status(status) => (status, None),
        Reply::With(status, name, value) => (status, Some((name, value))),
        Reply::Stall(wait) => {
            tokio::time::sleep(wait).await;
            (200, None)
        }
        Reply::Slow(wait, status) => {
            tokio::time::sleep(wait).await;
            (status, None)
        }
    };
    inner.received.lock().unwrap()[index].answered = Instant::now();
    let mut resp = Response::builder().status(poem::http::StatusCode::from_u16(status).unwrap());
    if let Some((name, value)) = header {
        resp = resp.header(name, value);
    }
    resp.body(format!("answered {status}"))
}
