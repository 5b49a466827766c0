"""A hostile server on loopback: reads the request, answers the status line and headers at
once, then one byte of the body every `interval` seconds: a read timeout never fires."""

import socket
import threading
import time


class DrippingServer:
    def __init__(self, *, interval=1.0, length=10_000):
        self.interval = interval
        self.length = length
        self.requests = []  # the raw request heads received
        self.cut = []  # seconds each connection lasted until the client hung up
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        started = time.monotonic()
        with conn:
            conn.settimeout(5)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                self.requests.append(head)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n" + f"Content-Length: {self.length}\r\n\r\n".encode()
                )
                for _ in range(self.length):
                    if self.stopping.wait(self.interval):
                        return
                    conn.sendall(b"x")
            except OSError:
                pass  # the client cut us off: what the platform must do
            finally:
                self.cut.append(time.monotonic() - started)

    def stop(self):
        self.stopping.set()
        self.listener.close()
        self.thread.join(timeout=2)
