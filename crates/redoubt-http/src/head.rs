//! Copying a request's head out of hyper's read buffer.
//!
//! hyper parses a request without copying it: the URI and every header value
//! are slices of the connection's 8 KiB read buffer. Right after handing the
//! request over, before the app has looked at it, hyper reads again to notice
//! a client that hangs up; while the head still points into the buffer, that
//! read needs a new 8 KiB buffer. So every request cost an 8 KiB allocation,
//! and a request waiting for its flow kept two buffers alive. Copying the head
//! into one allocation of its own size, before hyper reads again, leaves the
//! read buffer unshared and hyper reuses it (bench/HISTORY.md, item 33).

use bytes::BytesMut;
use http::{HeaderValue, Request, Uri};

/// Gives `req` a URI and header values of its own, in one allocation.
///
/// Only origin-form requests (`GET /path?query`, nearly all of them) are
/// copied; a proxy's absolute-form URI or a `CONNECT` authority is left as
/// hyper parsed it. Nothing about the request changes but where its bytes
/// live: a value that does not copy cleanly keeps hyper's slice.
pub(crate) fn detach<B>(req: &mut Request<B>) {
    let uri = req.uri();
    if uri.scheme().is_some() || uri.authority().is_some() {
        return;
    }
    let Some(path) = uri.path_and_query().map(|p| p.as_str()) else {
        return;
    };
    let path_len = path.len();
    let values_len: usize = req.headers().values().map(HeaderValue::len).sum();
    let mut buf = BytesMut::with_capacity(path_len + values_len);
    buf.extend_from_slice(path.as_bytes());
    for value in req.headers().values() {
        buf.extend_from_slice(value.as_bytes());
    }
    let copied = buf.freeze();
    match Uri::from_maybe_shared(copied.slice(..path_len)) {
        Ok(own) => *req.uri_mut() = own,
        Err(_) => return,
    }
    let mut at = path_len;
    for value in req.headers_mut().values_mut() {
        let end = at + value.len();
        // `values` and `values_mut` walk the map in the same order; the
        // comparison makes sure of it before a value is replaced.
        let Some(bytes) = copied.get(at..end) else {
            return;
        };
        if bytes == value.as_bytes()
            && let Ok(mut own) = HeaderValue::from_maybe_shared(copied.slice(at..end))
        {
            own.set_sensitive(value.is_sensitive());
            *value = own;
        }
        at = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A request whose URI and header values are slices of one buffer, as
    /// hyper builds them.
    fn parsed_like_hyper(buffer: &Bytes) -> Request<()> {
        let text = std::str::from_utf8(buffer).expect("utf-8");
        let path_end = text.find(' ').expect("path");
        let mut req = Request::new(());
        *req.uri_mut() = Uri::from_maybe_shared(buffer.slice(..path_end)).expect("uri");
        let mut at = path_end + 1;
        for (name, len) in [("host", 9), ("x-many", 1), ("x-many", 2), ("accept", 3)] {
            let value = HeaderValue::from_maybe_shared(buffer.slice(at..at + len)).expect("value");
            req.headers_mut()
                .append(http::HeaderName::from_static(name), value);
            at += len + 1;
        }
        req
    }

    #[test]
    fn the_head_reads_the_same_and_no_longer_shares_the_buffer() {
        let buffer = Bytes::from(b"/a/b?c=1&d=%20 localhost a bc */*".to_vec());
        let mut req = parsed_like_hyper(&buffer);
        let before = format!("{:?} {:?}", req.uri(), req.headers());
        detach(&mut req);
        assert_eq!(format!("{:?} {:?}", req.uri(), req.headers()), before);
        // No slice of `buffer` is left in the request, so it is unique again
        // and becomes a vector without being copied.
        let ptr = buffer.as_ptr();
        let vec = Vec::from(buffer);
        assert_eq!(vec.as_ptr(), ptr, "the request still holds the buffer");
    }

    #[test]
    fn multiple_values_of_one_header_keep_their_order() {
        let owned = Bytes::from(b"/x localhost a bc */*".to_vec());
        let mut req = parsed_like_hyper(&owned);
        detach(&mut req);
        let many: Vec<_> = req.headers().get_all("x-many").iter().collect();
        assert_eq!(many, ["a", "bc"]);
        assert_eq!(req.headers()["accept"], "*/*");
        assert_eq!(req.headers()["host"], "localhost");
    }

    #[test]
    fn a_proxy_request_is_left_as_parsed() {
        let mut req = Request::new(());
        *req.uri_mut() = Uri::from_static("http://example.com/x");
        detach(&mut req);
        assert_eq!(req.uri(), "http://example.com/x");
    }
}
