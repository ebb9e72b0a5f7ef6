//! [`ServerError`]: why the server stopped.

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A ZeroMQ call failed. The cause is the error's source, not part of
    /// its message: the command line prints both.
    #[error("ZeroMQ")]
    Zmq(#[from] zmq::Error),
    /// A thread could not be started.
    #[error("starting a thread")]
    Thread(#[from] std::io::Error),
    /// The store failed in a way that leaves its state unknown; the service
    /// answered what it owed and stopped.
    #[error("stopped after a fatal storage error (see the log)")]
    Fatal,
}
