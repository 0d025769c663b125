//! A non-blocking AF_UNIX SOCK_SEQPACKET socket on tokio's reactor (tokio has no
//! SEQPACKET type): libc for the calls, `AsyncFd` for readiness. Each send or receive is
//! one whole message, so several tasks may send at once without interleaving.
//! The socket is registered for reading only: registered for writing too, every request
//! the node reads would wake the reactor (the kernel reports the freed send space as a
//! writable edge) in the middle of each round trip. A send is tried at once; only when the
//! send buffer is full does it wait for room, on a duplicate descriptor registered for
//! writing while it waits.
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

pub(crate) struct SeqPacket {
    fd: AsyncFd<OwnedFd>,
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

impl SeqPacket {
    /// Connects to the socket at @path. A local connect completes at once (or fails), so
    /// it is done blocking before the descriptor turns non-blocking.
    pub(crate) fn connect(path: &Path) -> io::Result<SeqPacket> {
        // SAFETY: sockaddr_un is plain data; all zeroes is a valid value.
        let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
        let bytes = path.as_os_str().as_bytes();
        if bytes.len() >= sa.sun_path.len() || bytes.contains(&0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bad socket path",
            ));
        }
        sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
        for (d, s) in sa.sun_path.iter_mut().zip(bytes) {
            *d = *s as libc::c_char;
        }
        // SAFETY: plain system calls on a descriptor this function owns.
        let fd = unsafe {
            let raw = cvt(libc::socket(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
            ))?;
            OwnedFd::from_raw_fd(raw)
        };
        // A message must fit the send buffer whole; the default (wmem_default, often
        // 208 KiB) is below MAX_MSG. Best effort: the kernel caps it at wmem_max.
        let want: libc::c_int = 2 * crate::MAX_MSG as libc::c_int;
        // SAFETY: fd is open; want is a c_int of the size passed.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_SNDBUF,
                &want as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        let len = std::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t;
        // SAFETY: sa is a valid sockaddr_un of len bytes; fd is open.
        unsafe {
            cvt(libc::connect(
                fd.as_raw_fd(),
                &sa as *const _ as *const libc::sockaddr,
                len,
            ))?;
            let fl = cvt(libc::fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
            cvt(libc::fcntl(
                fd.as_raw_fd(),
                libc::F_SETFL,
                fl | libc::O_NONBLOCK,
            ))?;
        }
        Ok(SeqPacket {
            fd: AsyncFd::with_interest(fd, Interest::READABLE)?,
        })
    }

    /// One non-blocking send of @msg on @fd.
    fn try_send(fd: libc::c_int, msg: &[u8]) -> io::Result<()> {
        // SAFETY: msg is a valid buffer of msg.len() bytes.
        let n = unsafe {
            libc::send(
                fd,
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else if n as usize != msg.len() {
            Err(io::Error::new(io::ErrorKind::WriteZero, "short send"))
        } else {
            Ok(())
        }
    }

    /// Sends @msg as one message.
    pub(crate) async fn send(&self, msg: &[u8]) -> io::Result<()> {
        let raw = self.fd.get_ref().as_raw_fd();
        match SeqPacket::try_send(raw, msg) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            r => return r,
        }
        // the send buffer is full: wait for room on a duplicate registered for writing
        // SAFETY: raw is open for as long as self; dup returns a new descriptor we own.
        let dup = unsafe { OwnedFd::from_raw_fd(cvt(libc::fcntl(raw, libc::F_DUPFD_CLOEXEC, 0))?) };
        let w = AsyncFd::with_interest(dup, Interest::WRITABLE)?;
        loop {
            let mut guard = w.writable().await?;
            match guard.try_io(|fd| SeqPacket::try_send(fd.get_ref().as_raw_fd(), msg)) {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Receives one message into @buf; Ok(0) when the peer closed the connection.
    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.fd.readable().await?;
            let r = guard.try_io(|fd| {
                // SAFETY: buf is a valid writable buffer of buf.len() bytes.
                let n = unsafe {
                    libc::recv(
                        fd.as_raw_fd(),
                        buf.as_mut_ptr() as *mut libc::c_void,
                        buf.len(),
                        libc::MSG_DONTWAIT,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match r {
                Ok(res) => return res,
                Err(_would_block) => continue,
            }
        }
    }
}
