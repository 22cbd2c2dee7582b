# notify-sink.py SOCKET FILE: a NOTIFY_SOCKET of the tests' own. Every sd_notify() datagram
# the daemon sends is appended to FILE as one line, its own newlines written '|'. Reads all
# along: sd_notify() blocks once the socket's short queue is full, and the daemon with it.
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
with open(sys.argv[2], "a") as out:
    while True:
        out.write(sock.recv(65536).decode().replace("\n", "|") + "\n")
        out.flush()
