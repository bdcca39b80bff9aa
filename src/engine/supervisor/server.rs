//! The control socket: one thread accepting connections, one per
//! connection reading a request and writing the loop's answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::mpsc::{self, Sender};

use super::Ev;
use crate::engine::control::{self, Op, Response};

/// Serve the socket until the listener fails.
pub(super) fn serve(listener: UnixListener, tx: Sender<Ev>) {
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let tx = tx.clone();
        let _ = std::thread::Builder::new()
            .name("control-conn".into())
            .spawn(move || handle_conn(conn, tx));
    }
}

fn write_resp(w: &mut UnixStream, r: &Response) -> bool {
    let Ok(mut s) = serde_json::to_string(r) else {
        return false;
    };
    s.push('\n');
    w.write_all(s.as_bytes()).is_ok()
}

fn handle_conn(conn: UnixStream, tx: Sender<Ev>) {
    let Ok(rd) = conn.try_clone() else { return };
    let mut line = String::new();
    // A request larger than 16 MiB is not one of ours.
    if BufReader::new(rd.take(16 << 20))
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let mut w = conn;
    let req = match control::parse_request(&line) {
        Ok(r) => r,
        Err(e) => {
            write_resp(&mut w, &Response::err(e.to_string()));
            return;
        }
    };
    let streaming = matches!(req.op, Op::Events);
    let (rtx, rrx) = mpsc::channel();
    if tx
        .send(Ev::Control {
            op: req.op,
            reply: rtx,
        })
        .is_err()
    {
        write_resp(&mut w, &Response::err("the supervisor is shutting down"));
        return;
    }
    loop {
        let Ok(resp) = rrx.recv() else { return };
        if !write_resp(&mut w, &resp) || !streaming {
            return;
        }
    }
}
