//! Connections: how long a client may hold one, and how the server stops.
//!
//! Every accepted connection is wrapped in a [`GuardedIo`] that knows which phase
//! of HTTP/1 it is in, from the bytes it carries: a request head must arrive within
//! the header timeout (counted from the connection's opening, or from the first
//! byte of a later request), and a kept-alive connection may wait the idle timeout
//! for its next request. Past either, reading fails and the connection is closed.
//! (The body's own timeout is kept where the body is read, in
//! `startup::limit_body`.)
//!
//! While a head is due, the bytes are held back from hyper until the head is whole,
//! and `head.rs` checks it first: what hyper would refuse with a bare status gets
//! the API's problem+json from here (then the connection closes), and URL bytes
//! people paste unencoded are percent-encoded. (Only the first head of a burst is
//! held: a request pipelined behind another's body reaches hyper unchecked.)
//!
//! [`GuardedAcceptor`] stops accepting when told to: new connections are refused,
//! and [`Tracker::drained`] says when the ones already accepted have finished the
//! request they were making, so that none is closed under a client that sent one.

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::edge::RequestLine;
use crate::head::{self, Checked, Refusal};

/// How long a connection may take over each phase.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From the opening (or a later request's first byte) to the end of the head.
    pub header: Duration,
    /// From the end of a response to the next request's first byte.
    pub idle: Duration,
}

/// How many connections are in each phase that shutdown waits for.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Accepted, nothing read yet.
    fresh: AtomicUsize,
    /// Reading a request, or handling it.
    active: AtomicUsize,
}

impl Tracker {
    /// Resolves once no connection is making a request, and none that was just
    /// opened has begun one within `fresh_grace`; or after `limit` in any case.
    pub async fn drained(&self, fresh_grace: Duration, limit: Duration) {
        let start = Instant::now();
        loop {
            let waited = start.elapsed();
            let active = self.active.load(Ordering::Acquire);
            let fresh = self.fresh.load(Ordering::Acquire);
            if waited >= limit || (active == 0 && (fresh == 0 || waited >= fresh_grace)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn counter(&self, phase: Phase) -> Option<&AtomicUsize> {
        match phase {
            Phase::Fresh => Some(&self.fresh),
            Phase::Head | Phase::Body => Some(&self.active),
            Phase::Idle => None,
        }
    }
}

/// Where a connection is in its exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Accepted, nothing read: the header timeout runs from the opening.
    Fresh,
    /// Reading a request head: the header timeout runs.
    Head,
    /// The head is in; the body and the handler have their own bounds.
    Body,
    /// A response went out; waiting for the next request: the idle timeout runs.
    Idle,
}

/// A connection with a deadline on each phase.
pub struct GuardedIo<T> {
    inner: T,
    phase: Phase,
    /// The last bytes of the head seen so far, to find its blank line.
    tail: u32,
    /// Whether the head so far holds anything but line breaks.
    started: bool,
    deadline: Pin<Box<Sleep>>,
    timeouts: Timeouts,
    tracker: Arc<Tracker>,
    /// The head being read, held back from hyper until it is whole and checked.
    head: Vec<u8>,
    /// Bytes checked and waiting for hyper to read them, from `pending_at` on.
    pending: Vec<u8>,
    pending_at: usize,
    /// The connection turned out to speak HTTP/2: heads are no longer checked.
    http2: bool,
    /// A head was refused: the answer being written, then the connection closed.
    refusing: Option<Refusing>,
    /// The socket peer, for the log line of a refused head.
    peer: Option<IpAddr>,
}

/// The answer to a refused head, on its way out.
struct Refusing {
    answer: Vec<u8>,
    written: usize,
    shut: bool,
    /// Bytes the client sent after the refused head, read and dropped so that
    /// closing does not reset the connection under the answer.
    drained: usize,
}

/// How long, and how much, a refused client's further input is read and dropped.
const DRAIN_TIME: Duration = Duration::from_secs(1);
const DRAIN_BYTES: usize = 1024 * 1024;

impl<T> GuardedIo<T> {
    fn new(inner: T, timeouts: Timeouts, tracker: Arc<Tracker>, peer: Option<IpAddr>) -> Self {
        tracker.fresh.fetch_add(1, Ordering::AcqRel);
        Self {
            inner,
            phase: Phase::Fresh,
            tail: 0,
            started: false,
            deadline: Box::pin(tokio::time::sleep(timeouts.header)),
            timeouts,
            tracker,
            head: Vec::new(),
            pending: Vec::new(),
            pending_at: 0,
            http2: false,
            refusing: None,
            peer,
        }
    }

    fn enter(&mut self, phase: Phase) {
        if let Some(c) = self.tracker.counter(self.phase) {
            c.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some(c) = self.tracker.counter(phase) {
            c.fetch_add(1, Ordering::AcqRel);
        }
        self.phase = phase;
    }

    /// Follows the phase through bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.phase {
            Phase::Fresh => self.begin_head(),
            Phase::Idle => {
                self.deadline
                    .as_mut()
                    .reset(Instant::now() + self.timeouts.header);
                self.begin_head();
            }
            Phase::Head | Phase::Body => {}
        }
        if self.phase != Phase::Head {
            return;
        }
        for &b in bytes {
            self.tail = (self.tail << 8) | u32::from(b);
            if b != b'\r' && b != b'\n' {
                self.started = true;
            }
            if self.started && (self.tail == 0x0d0a_0d0a || self.tail & 0xffff == 0x0a0a) {
                self.enter(Phase::Body);
                return;
            }
        }
    }

    fn begin_head(&mut self) {
        self.tail = 0;
        self.started = false;
        self.head.clear();
        self.enter(Phase::Head);
    }

    /// Takes bytes read while a head is due (HTTP/1): they are held back until the
    /// head is whole, which is then checked ([`head::check`]) and handed on, mended,
    /// with whatever followed it; or refused.
    fn take(&mut self, bytes: &[u8]) {
        match self.phase {
            Phase::Fresh => self.begin_head(),
            Phase::Idle => {
                self.deadline
                    .as_mut()
                    .reset(Instant::now() + self.timeouts.header);
                self.begin_head();
            }
            Phase::Head | Phase::Body => {}
        }
        for (i, &b) in bytes.iter().enumerate() {
            self.head.push(b);
            self.tail = (self.tail << 8) | u32::from(b);
            if b != b'\r' && b != b'\n' {
                self.started = true;
            }
            if self.started && (self.tail == 0x0d0a_0d0a || self.tail & 0xffff == 0x0a0a) {
                let whole = std::mem::take(&mut self.head);
                match head::check(&whole) {
                    Checked::Pass(mended) => self.pending = mended,
                    Checked::Http2(preface) => {
                        self.http2 = true;
                        self.pending = preface;
                    }
                    Checked::Refuse(refusal) => return self.refuse(refusal),
                }
                self.pending.extend_from_slice(&bytes[i + 1..]);
                self.pending_at = 0;
                self.enter(Phase::Body);
                return;
            }
        }
        if let Some(refusal) = head::check_partial(&self.head) {
            self.refuse(refusal);
        }
    }

    /// Starts answering a refused head (see [`GuardedIo::poll_refusing`]).
    fn refuse(&mut self, refusal: Refusal) {
        let id = crate::request_id::choose(refusal.request_id.as_deref());
        RequestLine {
            method: refusal.method.clone(),
            path: refusal.path.clone(),
            status: refusal.status.as_u16(),
            duration: Duration::ZERO,
            client: self
                .peer
                .map(|p| p.to_canonical())
                .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            request_id: id.clone(),
        }
        .emit();
        self.head.clear();
        self.refusing = Some(Refusing {
            answer: head::response_bytes(&refusal, &id),
            written: 0,
            shut: false,
            drained: 0,
        });
        self.deadline.as_mut().reset(Instant::now() + DRAIN_TIME);
    }

    /// A response is going out: the idle timeout starts (again).
    fn wrote(&mut self, n: usize, cx: &mut Context<'_>) {
        if n == 0 {
            return;
        }
        self.deadline
            .as_mut()
            .reset(Instant::now() + self.timeouts.idle);
        if self.phase != Phase::Idle {
            self.enter(Phase::Idle);
            // The connection last read while no deadline ran; have it read again,
            // so that the idle deadline is watched from now on.
            cx.waker().wake_by_ref();
        }
    }
}

impl<T> Drop for GuardedIo<T> {
    fn drop(&mut self) {
        if let Some(c) = self.tracker.counter(self.phase) {
            c.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> GuardedIo<T> {
    /// Writes the answer to a refused head, closes our side, and reads and drops what
    /// the client still sends for a moment (closing with input unread would reset the
    /// connection, and the client could lose the answer); then ends the stream, so
    /// hyper, which never saw the head, closes the connection without a word.
    fn poll_refusing(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(r) = self.refusing.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        while r.written < r.answer.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &r.answer[r.written..]) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(n)) => r.written += n,
                Poll::Pending => return Poll::Pending,
            }
        }
        if !r.shut {
            match Pin::new(&mut self.inner).poll_shutdown(cx) {
                Poll::Ready(_) => r.shut = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        let mut scratch = [0u8; 8192];
        loop {
            if r.drained >= DRAIN_BYTES {
                return Poll::Ready(Ok(()));
            }
            let mut sink = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut sink) {
                Poll::Ready(Ok(())) if !sink.filled().is_empty() => {
                    r.drained += sink.filled().len();
                }
                Poll::Ready(_) => return Poll::Ready(Ok(())),
                Poll::Pending => {
                    if self.deadline.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Ok(()));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Whether the phase's deadline has passed (checked while waiting to read).
    fn timed_out(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.phase != Phase::Body && self.deadline.as_mut().poll(cx).is_ready() {
            let what = if self.phase == Phase::Idle {
                "idle timeout"
            } else {
                "request head timeout"
            };
            tracing::debug!(reason = what, "closing connection");
            return Some(io::Error::new(io::ErrorKind::TimedOut, what));
        }
        None
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.refusing.is_some() {
                return this.poll_refusing(cx);
            }
            if this.pending_at < this.pending.len() {
                let n = buf.remaining().min(this.pending.len() - this.pending_at);
                buf.put_slice(&this.pending[this.pending_at..this.pending_at + n]);
                this.pending_at += n;
                if this.pending_at == this.pending.len() {
                    this.pending.clear();
                    this.pending_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            if this.http2 || this.phase == Phase::Body {
                // A body (or HTTP/2 frames): straight through, only watched.
                let before = buf.filled().len();
                return match Pin::new(&mut this.inner).poll_read(cx, buf) {
                    Poll::Ready(Ok(())) => {
                        this.saw(&buf.filled()[before..]);
                        Poll::Ready(Ok(()))
                    }
                    Poll::Pending => match this.timed_out(cx) {
                        Some(err) => Poll::Ready(Err(err)),
                        None => Poll::Pending,
                    },
                    other => other,
                };
            }
            // A head is due: read it here, to check it whole before hyper does.
            let mut scratch = [0u8; 8192];
            let mut read = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // The client closed; a partial head is dropped (hyper saw none of it).
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(())) => this.take(read.filled()),
                Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                Poll::Pending => {
                    return match this.timed_out(cx) {
                        Some(err) => Poll::Ready(Err(err)),
                        None => Poll::Pending,
                    };
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = polled {
            this.wrote(n, cx);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            this.wrote(n, cx);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// How long the acceptor waits after a failed accept before poem tries again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// The TCP acceptor, wrapping each connection in a [`GuardedIo`] and dropping the
/// listening socket (so new connections are refused) once `stop` says so.
pub struct GuardedAcceptor {
    inner: Option<TcpAcceptor>,
    local: Vec<LocalAddr>,
    timeouts: Timeouts,
    tracker: Arc<Tracker>,
    stop: watch::Receiver<bool>,
}

impl GuardedAcceptor {
    pub fn new(
        inner: TcpAcceptor,
        timeouts: Timeouts,
        tracker: Arc<Tracker>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        Self {
            local: inner.local_addr(),
            inner: Some(inner),
            timeouts,
            tracker,
            stop,
        }
    }
}

impl Acceptor for GuardedAcceptor {
    type Io = GuardedIo<TcpStream>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.local.clone()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let accepted = match self.inner.as_mut() {
            None => None,
            Some(inner) => tokio::select! {
                _ = self.stop.wait_for(|stop| *stop) => None,
                accepted = inner.accept() => Some(accepted),
            },
        };
        match accepted {
            Some(Err(err)) => {
                // Poem's accept loop tries again at once; out of file descriptors
                // (EMFILE) that would spin a core. Pause first, so a full process
                // keeps serving the connections it has.
                tracing::warn!(%err, "accepting a connection failed; pausing 100 ms");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                Err(err)
            }
            Some(Ok(accepted)) => {
                let (io, local, remote, scheme) = accepted;
                let peer = remote.as_socket_addr().map(|a| a.ip());
                let io = GuardedIo::new(io, self.timeouts, self.tracker.clone(), peer);
                Ok((io, local, remote, scheme))
            }
            None => {
                // Told to stop: close the listening socket, then never accept again.
                self.inner = None;
                std::future::pending().await
            }
        }
    }
}
