package httpserver

import (
	"bytes"
	"encoding/json"
	"net"
	"strconv"
)

// Listener wraps ln so that the answers net/http writes by itself to a
// request it cannot parse (a control character in a header, a malformed
// request line, headers too large, an unknown transfer coding) are problem
// documents like every other error under /api/v1, instead of plain text.
// Such a request never reaches a handler, and its path may be unreadable,
// so the document is sent whatever the path was.
func Listener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return problemConn{c}, nil
}

type problemConn struct{ net.Conn }

// serverErrorHeaders is what net/http writes after the status line of its
// own error answers (server.go, errorHeaders): responses from handlers
// always carry a Date header, so they never match.
var serverErrorHeaders = []byte("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n")

func (c problemConn) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return c.Conn.Write(p)
	}
	statusLine, body, ok := bytes.Cut(p, serverErrorHeaders)
	if !ok || bytes.Contains(statusLine, []byte("\r\n")) {
		return c.Conn.Write(p)
	}
	code, err := strconv.Atoi(string(statusLine[len("HTTP/1.1 ") : len("HTTP/1.1 ")+3]))
	if err != nil {
		return c.Conn.Write(p)
	}
	doc, _ := json.Marshal(map[string]any{
		"type": "https://dancecard.dev/problems/bad_request", "title": "Bad request", "status": code,
		"code": "bad_request", "detail": "The request could not be read: " + string(body),
	})
	out := append([]byte{}, statusLine...)
	out = append(out, "\r\nContent-Type: application/problem+json\r\nConnection: close\r\nContent-Length: "...)
	out = strconv.AppendInt(out, int64(len(doc)), 10)
	out = append(out, "\r\n\r\n"...)
	out = append(out, doc...)
	if _, err := c.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
