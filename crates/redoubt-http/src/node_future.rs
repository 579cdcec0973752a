//! [`NodeFuture`]: the future that answers one request on the node routes.
//!
//! It is allocated once per request (axum boxes every route's future), so it
//! is kept small. A request without a body (every GET) is handed to its
//! `http in` node before the future exists, and the future only waits for
//! the `http response`: a few bytes. What has more to wait for (a body to
//! read, a multipart upload, a websocket upgrade, a static file or Basic
//! auth in front) is an `async` block boxed on its own. As one `async fn`,
//! the whole handler took 3.5 KiB per request (bench/HISTORY.md, item 33).

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use redoubt_core::http_host::{HeaderText, HttpReply};
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::sync::oneshot;

/// A future answering one node-route request.
pub enum NodeFuture {
    /// The answer is known already (a 404, a 413).
    Ready(Option<Response>),
    /// The flow has the request; waiting for its `http response`.
    Waiting(Waiting),
    /// Anything with more steps, boxed.
    Boxed(Pin<Box<dyn Future<Output = Response> + Send>>),
}

impl NodeFuture {
    /// A future whose answer is `response`.
    pub(crate) fn ready(response: Response) -> NodeFuture {
        NodeFuture::Ready(Some(response))
    }

    /// Boxes `steps`.
    pub(crate) fn boxed(steps: impl Future<Output = Response> + Send + 'static) -> NodeFuture {
        NodeFuture::Boxed(Box::pin(steps))
    }
}

impl Future for NodeFuture {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        match self.get_mut() {
            NodeFuture::Ready(response) => {
                Poll::Ready(response.take().unwrap_or_else(internal_error))
            }
            NodeFuture::Waiting(waiting) => Pin::new(waiting).poll(cx),
            NodeFuture::Boxed(steps) => steps.as_mut().poll(cx),
        }
    }
}

/// Waiting for the flow's `http response` to a request already sent.
pub struct Waiting {
    pub(crate) rx: oneshot::Receiver<HttpReply>,
    /// A HEAD request: the answer goes without its body.
    pub(crate) head: bool,
}

impl Future for Waiting {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let head = self.head;
        Poll::Ready(match ready!(Pin::new(&mut self.get_mut().rx).poll(cx)) {
            Ok(reply) => response_of(reply, head),
            // Every reference to the response was dropped: nothing can answer any more.
            Err(_) => internal_error(),
        })
    }
}

/// The `http response` node's reply as the HTTP response.
fn response_of(reply: HttpReply, head: bool) -> Response {
    let mut r = Response::new(Body::from(reply.body));
    *r.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    for (k, v) in reply.headers {
        if let (Ok(name), Ok(val)) = (http::HeaderName::from_bytes(k.as_bytes()), header_value(v)) {
            r.headers_mut().append(name, val);
        }
    }
    if head {
        *r.body_mut() = Body::empty();
    }
    r
}

/// `text` as a header value, checked as `HeaderValue::from_str` checks it,
/// without copying it: a literal is used where it is, a string made for the
/// reply is taken over.
fn header_value(text: HeaderText) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    let bytes = match text {
        Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
        Cow::Owned(s) => Bytes::from(s),
    };
    HeaderValue::from_maybe_shared(bytes)
}

/// Express's answer when nothing can answer.
fn internal_error() -> Response {
    plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        "text/plain; charset=utf-8",
    )
}

/// A response of `status` with a text `body` of content type `ctype`.
pub(crate) fn plain(status: StatusCode, body: &str, ctype: &str) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(ctype) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What every GET allocates per request stays small: a response
    /// inline (the 404 case) is the largest variant.
    #[test]
    fn the_future_of_a_request_without_a_body_is_small() {
        assert!(
            std::mem::size_of::<NodeFuture>() <= 128,
            "{} bytes",
            std::mem::size_of::<NodeFuture>()
        );
    }

    #[tokio::test]
    async fn a_reply_becomes_the_response_and_head_drops_its_body() {
        for head in [false, true] {
            let (tx, rx) = oneshot::channel();
            let fut = NodeFuture::Waiting(Waiting { rx, head });
            tx.send(HttpReply {
                status: 201,
                headers: vec![("x-a".into(), "1".into()), ("bad name".into(), "v".into())],
                body: bytes::Bytes::from_static(b"made"),
            })
            .expect("send");
            let r = fut.await;
            assert_eq!(r.status(), 201);
            assert_eq!(r.headers()["x-a"], "1");
            assert_eq!(r.headers().len(), 1, "an invalid header name is left out");
            let body = axum::body::to_bytes(r.into_body(), 100)
                .await
                .expect("body");
            assert_eq!(&body[..], if head { &b""[..] } else { &b"made"[..] });
        }
    }

    /// Header values are checked as `HeaderValue::from_str` checks them,
    /// whether they are literals or strings made for the reply.
    #[test]
    fn header_values_are_checked_the_same_literal_or_made() {
        let ok = |t: HeaderText| header_value(t).ok().map(|v| v.as_bytes().to_vec());
        for text in [
            "text/html; charset=utf-8",
            "a\tb",
            "caf\u{e9}",
            "a\nb",
            "a\u{7f}b",
            "",
        ] {
            let expected = HeaderValue::from_str(text)
                .ok()
                .map(|v| v.as_bytes().to_vec());
            assert_eq!(ok(Cow::Borrowed(text)), expected, "{text:?}");
            assert_eq!(ok(Cow::Owned(text.to_string())), expected, "{text:?}");
        }
        assert!(header_value(Cow::Borrowed("a\r\nx-injected: 1")).is_err());
    }

    #[tokio::test]
    async fn a_dropped_reply_is_a_500() {
        let (tx, rx) = oneshot::channel::<HttpReply>();
        drop(tx);
        let r = NodeFuture::Waiting(Waiting { rx, head: false }).await;
        assert_eq!(r.status(), 500);
    }
}
