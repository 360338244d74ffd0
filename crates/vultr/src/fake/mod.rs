//! A fake Vultr server: real HTTP/1.1 on loopback, serving a snapshot through Vultr's paths,
//! JSON shapes, pagination (`per_page`, `cursor`, `meta.links.next`) and status codes, with
//! scriptable [`Fault`]s.
//!
//! It serves every read the crawl and `--verify` use, and `DELETE /groups/{id}/members/{user}`
//! (204; the group's members reflect it at once). Any non-empty bearer token is accepted
//! unless [`FakeOptions::api_key`] names one. It binds loopback addresses only.
//!
//! ```
//! use iamsim_vultr::fake::{FakeOptions, FakeServer, Fault, FaultAction};
//!
//! let organization = iamsim_core::generate::snapshot(&iamsim_core::generate::Params {
//!     users: 3, groups: 1, roles: 1, policies: 1, actions: 5, seed: 1,
//!     shape: iamsim_core::generate::Shape::Classic,
//! });
//! let mut options = FakeOptions::default();
//! // The first request for `/users` is answered 429, asking to wait 2 seconds.
//! options.faults.push(Fault::on("/users", FaultAction::Status {
//!     status: 429, retry_after: Some("2".into()), body: None,
//! }).times(1));
//! let server = FakeServer::start(organization, options)?;
//! assert!(server.base_url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), std::io::Error>(())
//! ```

mod faults;
mod state;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use iamsim_core::model::Snapshot;

pub use faults::{Fault, FaultAction};
pub use state::fake_session_token;
use state::{add_extra_fields, Ask, Reply, State};

use crate::key::ApiKey;

/// How the fake behaves.
#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// Scripted faults, tried in order for each request.
    pub faults: Vec<Fault>,
    /// The only bearer token accepted; any non-empty one when `None`.
    pub api_key: Option<ApiKey>,
    /// `GET /policies` leaves `policy_document` out, as Vultr's list may (the crawl then reads
    /// each policy).
    pub list_omits_documents: bool,
    /// Role trusts carry `role_id` (Vultr's SDK shows only `role_name`; the crawl then asks
    /// `/role-trusts/by-role/{id}`).
    pub trusts_name_role_id: bool,
    /// The largest page served, whatever `per_page` asks.
    pub max_page_size: Option<usize>,
    /// How `GET /policies/{id}/users` lists the users of a policy.
    pub policy_users: PolicyUsers,
    /// Policy documents served verbatim instead of the snapshot's, by policy id: what the
    /// snapshot model cannot hold, such as a statement with a `Condition`.
    pub raw_documents: std::collections::BTreeMap<String, serde_json::Value>,
    /// More organizations `GET /organizations` lists (id, name), as for a key whose user
    /// belongs to several. Every other endpoint still answers for the snapshot's organization,
    /// as Vultr's answer for the key's organization; their suspended users are none.
    pub other_organizations: Vec<(String, String)>,
    /// `GET /invitation` lists one pending invitation carrying this `org_id`; none when `None`.
    pub invitation_org: Option<String>,
    /// `role_type` served instead of the snapshot's, by role id, wherever a role is shown: a
    /// value Vultr does not document, or `null` (`Value::Null`) to leave it out.
    pub role_types: std::collections::BTreeMap<String, serde_json::Value>,
    /// Shapes Vultr does not document, each served one way or the other (what `vultr probe`
    /// asks about).
    pub shapes: Shapes,
}

/// How the fake answers where Vultr's documentation is silent. The default is what iamsim
/// assumes; each field serves the other answer, so that tests (and `vultr probe`) can see both.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shapes {
    /// What an empty group's `members` is, on `GET /groups/{id}` and
    /// `GET /groups/{id}/members`.
    pub empty_members: EmptyMembers,
    /// `meta.total` counts pages, not items.
    pub total_counts_pages: bool,
    /// Member rows carry a membership id as `id` (`m-` and the user's id) and the user's id as
    /// `user_id`, instead of the user's id as `id`.
    pub member_ids_are_memberships: bool,
}

/// What an empty group's `members` is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmptyMembers {
    /// `[]`.
    #[default]
    EmptyList,
    /// `null`.
    Null,
    /// No `members` field.
    Missing,
}

/// How `GET /policies/{id}/users` lists the users of a policy. Vultr's SDK gives each row an
/// `assignment_type` without documenting its values, a hint that the list may also hold users
/// who have the policy through a group or a role. The default lists direct attachments only,
/// each with `assignment_type` `direct`.
#[derive(Debug, Clone)]
pub struct PolicyUsers {
    /// Also list the users who hold the policy through a group they are in, or through a role
    /// they hold (directly or through a group): one row per way they hold it.
    pub holders: bool,
    /// `assignment_type` of a direct row; `None` leaves the field out.
    pub direct: Option<String>,
    /// `assignment_type` of a row through a group; `None` leaves the field out.
    pub group: Option<String>,
    /// `assignment_type` of a row through a role; `None` leaves the field out.
    pub role: Option<String>,
}

impl Default for PolicyUsers {
    fn default() -> PolicyUsers {
        PolicyUsers {
            holders: false,
            direct: Some("direct".to_string()),
            group: Some("group".to_string()),
            role: Some("role".to_string()),
        }
    }
}

/// A request the fake received. Headers are not kept, so the key is never stored.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    /// The method.
    pub method: String,
    /// The path, `/v2` included, without the query.
    pub path: String,
    /// The query string, without `?`.
    pub query: String,
    /// When its request line arrived.
    pub at: Instant,
    /// Whether its bearer token was accepted.
    pub authorized: bool,
}

struct Shared {
    state: Mutex<State>,
    faults: Mutex<Vec<(Fault, usize)>>,
    log: Mutex<Vec<LoggedRequest>>,
    options: FakeOptions,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake server; stops when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl FakeServer {
    /// Serves `snapshot` on `127.0.0.1` at a free port.
    pub fn start(snapshot: Snapshot, options: FakeOptions) -> std::io::Result<FakeServer> {
        FakeServer::start_on(snapshot, options, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves `snapshot` on `addr`, which must be a loopback address.
    pub fn start_on(
        snapshot: Snapshot,
        options: FakeOptions,
        addr: SocketAddr,
    ) -> std::io::Result<FakeServer> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the fake serves loopback addresses only, not {}", addr.ip()),
            ));
        }
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new({
                let mut state = State::new(snapshot);
                state.raw_documents = options.raw_documents.clone();
                state.role_types = options.role_types.clone();
                state.shapes = options.shapes;
                state
            }),
            faults: Mutex::new(options.faults.iter().map(|f| (f.clone(), 0)).collect()),
            log: Mutex::new(Vec::new()),
            options,
            stop: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accept_shared);
                std::thread::spawn(move || serve_connection(stream, &shared));
            }
        });
        Ok(FakeServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT/v2`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// The organization as the fake now holds it (after deletes and scripted changes).
    pub fn snapshot(&self) -> Snapshot {
        lock(&self.shared.state).current()
    }

    /// Adds a fault, after the ones given at start.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push((fault, 0));
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Blocks until the server stops (for `iamsim vultr serve-fake`, until the process ends).
    pub fn join(mut self) {
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// A parsed request head.
struct Request {
    method: String,
    path: String,
    query: String,
    authorization: Option<String>,
    close: bool,
}

/// Reads one request head (and discards any body). `None` when the client closed or the
/// server is stopping.
fn read_request(reader: &mut BufReader<TcpStream>, shared: &Shared) -> Option<Request> {
    let mut line = String::new();
    loop {
        match reader.read_line(&mut line) {
            Ok(0) => return None,
            Ok(_) => break,
            Err(e) if is_timeout(&e) => {
                if shared.stop.load(Ordering::SeqCst) {
                    return None;
                }
            }
            Err(_) => return None,
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut authorization = None;
    let mut close = false;
    let mut length = 0usize;
    let mut head_bytes = line.len();
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) => return None,
            Ok(n) => head_bytes += n,
            Err(e) if is_timeout(&e) && !shared.stop.load(Ordering::SeqCst) => continue,
            Err(_) => return None,
        }
        if head_bytes > 64 * 1024 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "authorization" => authorization = Some(value.to_string()),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            "content-length" => length = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    if length > 0 {
        let mut body = vec![0; length.min(1 << 20)];
        reader.read_exact(&mut body).ok()?;
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Some(Request {
        method,
        path,
        query,
        authorization,
        close,
    })
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

fn serve_connection(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut writer = write_half;
    let mut reader = BufReader::new(stream);
    let idle_limit = Duration::from_secs(10);
    let mut last = Instant::now();
    loop {
        if last.elapsed() > idle_limit {
            return;
        }
        let Some(request) = read_request(&mut reader, shared) else {
            return;
        };
        last = Instant::now();
        let keep = handle(&request, &mut writer, &mut reader, shared);
        if !keep || request.close {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

/// What to send.
enum Send {
    Normal,
    Hang,
    Trickle(u64),
    Truncate(usize),
    Reset,
}

/// Answers one request; returns whether the connection may be reused.
fn handle(
    request: &Request,
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    shared: &Shared,
) -> bool {
    let authorized = authorized(request, shared);
    lock(&shared.log).push(LoggedRequest {
        method: request.method.clone(),
        path: request.path.clone(),
        query: request.query.clone(),
        at: Instant::now(),
        authorized,
    });
    let Some(rest) = request.path.strip_prefix("/v2") else {
        return respond(
            writer,
            reader,
            shared,
            Reply::error(404, "Not found"),
            &[],
            Send::Normal,
        );
    };
    if !authorized {
        let reply = Reply::error(401, "Invalid API token.");
        return respond(writer, reader, shared, reply, &[], Send::Normal);
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let (modifiers, decisive) = faults_for(request, rest, shared);
    for m in &modifiers {
        if let FaultAction::Delay { millis } = m {
            std::thread::sleep(Duration::from_millis(*millis));
        }
    }
    let send = match decisive {
        None => Send::Normal,
        Some(fault) => match answer_fault(fault, request, rest, writer, reader, shared, &modifiers)
        {
            Decided::Answered(keep) => return keep,
            Decided::Send(send) => send,
        },
    };
    let reply = route(request, rest, shared, &modifiers);
    respond(writer, reader, shared, reply, &[], send)
}

/// Whether the request's bearer token is one the fake accepts.
fn authorized(request: &Request, shared: &Shared) -> bool {
    match request
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
    {
        None => false,
        Some(token) => match &shared.options.api_key {
            None => !token.trim().is_empty(),
            Some(key) => key.bearer() == format!("Bearer {token}"),
        },
    }
}

/// The faults that apply to a request: mutations are applied to the state at once, modifiers
/// all apply (returned in order), and the first other one decides the answer.
fn faults_for(
    request: &Request,
    rest: &str,
    shared: &Shared,
) -> (Vec<FaultAction>, Option<FaultAction>) {
    let mut modifiers = Vec::new();
    let mut decisive = None;
    let mut faults = lock(&shared.faults);
    let mut state = lock(&shared.state);
    for (fault, seen) in faults.iter_mut() {
        if !fault.matches(&request.method, rest) {
            continue;
        }
        *seen += 1;
        let applied = *seen - fault.skip.min(*seen);
        if *seen <= fault.skip || fault.times.is_some_and(|t| applied > t) {
            continue;
        }
        if fault.action.is_mutation() {
            state.mutate(&fault.action);
        } else if fault.action.is_modifier() {
            modifiers.push(fault.action.clone());
        } else if decisive.is_none() {
            decisive = Some(fault.action.clone());
        }
    }
    (modifiers, decisive)
}

/// What a deciding fault made of the request.
enum Decided {
    /// It was answered; whether the connection may be reused.
    Answered(bool),
    /// The normal answer goes out, sent this way.
    Send(Send),
}

/// Answers a request as its deciding fault says, or says how to send the normal answer.
fn answer_fault(
    fault: FaultAction,
    request: &Request,
    rest: &str,
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    shared: &Shared,
    modifiers: &[FaultAction],
) -> Decided {
    let answered = match fault {
        FaultAction::Status {
            status,
            retry_after,
            body,
        } => answer_status(status, retry_after, body, writer, reader, shared),
        FaultAction::Body {
            status,
            content_type,
            body,
        } => write_raw(writer, status, &content_type, body.as_bytes(), &[]),
        FaultAction::Redirect { status, location } => write_raw(
            writer,
            status,
            "text/plain",
            b"",
            &[("Location".into(), location)],
        ),
        FaultAction::Hang => return Decided::Send(Send::Hang),
        FaultAction::Trickle { millis_per_byte } => {
            return Decided::Send(Send::Trickle(millis_per_byte))
        }
        FaultAction::Truncate { keep_bytes } => return Decided::Send(Send::Truncate(keep_bytes)),
        FaultAction::Reset => return Decided::Send(Send::Reset),
        FaultAction::Large { bytes } => {
            let mut body = String::with_capacity(bytes + 64);
            body.push_str("{\"users\": [], \"padding\": \"");
            body.extend(std::iter::repeat_n('x', bytes));
            body.push_str("\", \"meta\": {\"total\": 0, \"links\": {\"next\": \"\"}}}");
            write_raw(writer, 200, "application/json", body.as_bytes(), &[])
        }
        FaultAction::Deep { depth } => {
            let body = format!("{{\"users\": {}{}}}", "[".repeat(depth), "]".repeat(depth));
            write_raw(writer, 200, "application/json", body.as_bytes(), &[])
        }
        FaultAction::Trailing { text } => {
            let reply = route(request, rest, shared, modifiers);
            let mut body = reply
                .body
                .map(|b| b.to_string())
                .unwrap_or_default()
                .into_bytes();
            body.extend_from_slice(text.as_bytes());
            write_raw(writer, reply.status, "application/json", &body, &[])
        }
        _ => return Decided::Send(Send::Normal),
    };
    Decided::Answered(answered)
}

/// A scripted status: with `Retry-After` when asked, and the given body or a standard one.
fn answer_status(
    status: u16,
    retry_after: Option<String>,
    body: Option<String>,
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    shared: &Shared,
) -> bool {
    let mut extra_headers: Vec<(String, String)> = Vec::new();
    if let Some(r) = retry_after {
        extra_headers.push(("Retry-After".into(), r));
    }
    let reply = match (status, body) {
        (204, _) => Reply { status, body: None },
        (_, Some(body)) => {
            return write_raw(
                writer,
                status,
                "application/json",
                body.as_bytes(),
                &extra_headers,
            )
        }
        (_, None) => Reply::error(status, reason(status)),
    };
    respond(writer, reader, shared, reply, &extra_headers, Send::Normal)
}

fn route(request: &Request, rest: &str, shared: &Shared, modifiers: &[FaultAction]) -> Reply {
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let query: Vec<(String, String)> = request
        .query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect();
    let ask = Ask {
        query: &query,
        mods: modifiers,
        options: &shared.options,
    };
    let mut reply = lock(&shared.state).route(&request.method, &segments, &ask);
    if modifiers.contains(&FaultAction::ExtraFields) {
        if let Some(body) = &mut reply.body {
            add_extra_fields(body);
        }
    }
    reply
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 3 <= bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn head(
    status: u16,
    content_type: &str,
    length: Option<usize>,
    extra: &[(String, String)],
) -> String {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    if !content_type.is_empty() {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    match length {
        Some(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        None => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

/// Writes a whole response; the connection stays usable.
fn write_raw(
    writer: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(String, String)],
) -> bool {
    let head = head(status, content_type, Some(body.len()), extra);
    writer
        .write_all(head.as_bytes())
        .and_then(|()| writer.write_all(body))
        .and_then(|()| writer.flush())
        .is_ok()
}

fn respond(
    writer: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    shared: &Shared,
    reply: Reply,
    extra: &[(String, String)],
    send: Send,
) -> bool {
    let body = reply
        .body
        .as_ref()
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let content_type = if reply.body.is_some() {
        "application/json"
    } else {
        ""
    };
    match send {
        Send::Normal => {
            if reply.status == 204 {
                return write_raw(writer, 204, "", b"", extra);
            }
            write_raw(writer, reply.status, content_type, &body, extra)
        }
        Send::Hang => {
            // Never answer; wait until the client gives up or the server stops.
            let started = Instant::now();
            let mut buf = [0u8; 64];
            while !shared.stop.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60)
            {
                match reader.get_mut().read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if is_timeout(&e) => {}
                    Err(_) => break,
                }
            }
            false
        }
        Send::Trickle(millis) => {
            let head = head(reply.status, content_type, Some(body.len()), extra);
            if writer.write_all(head.as_bytes()).is_err() {
                return false;
            }
            for byte in &body {
                if shared.stop.load(Ordering::SeqCst) {
                    return false;
                }
                std::thread::sleep(Duration::from_millis(millis));
                if writer.write_all(std::slice::from_ref(byte)).is_err() {
                    return false;
                }
            }
            true
        }
        Send::Truncate(keep) => {
            let head = head(reply.status, content_type, Some(body.len()), extra);
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(&body[..keep.min(body.len())]);
            let _ = writer.flush();
            false
        }
        Send::Reset => {
            let head = head(reply.status, content_type, None, extra);
            let half = &body[..body.len() / 2];
            let _ = writer.write_all(head.as_bytes());
            // A chunk announced whole, cut in the middle.
            let _ = writer.write_all(format!("{:x}\r\n", body.len()).as_bytes());
            let _ = writer.write_all(half);
            let _ = writer.flush();
            false
        }
    }
}
