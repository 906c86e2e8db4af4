// Command httpsessions is a net/http service with logins, for
// tests/e2e/realprog.py.  Sessions are github.com/gorilla/sessions sessions
// kept server-side by an in-memory sessions.Store (the cookie carries only
// the session ID, signed by gorilla/securecookie).  A client goroutine logs
// 3,000 users in over loopback and 2,990 of them out again; 200 clients
// connect at once and leave, so the server's own connection map grew and
// emptied.  It writes its ground truth (testdata/oracle) to $MAPSCAN_ORACLE
// and dies with a core.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"mapscan/testdata/oracle"
)

// MemStore is a sessions.Store that keeps sessions in memory.
type MemStore struct {
	mu       sync.Mutex
	codecs   []securecookie.Codec
	options  *sessions.Options
	sessions map[string]*sessions.Session
	seq      int
}

func (s *MemStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

func (s *MemStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := *s.options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, s.codecs...); err != nil {
		return sess, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.sessions[id]; ok {
		return old, nil
	}
	return sess, nil
}

func (s *MemStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	s.mu.Lock()
	if sess.Options.MaxAge < 0 {
		delete(s.sessions, sess.ID)
		s.mu.Unlock()
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	if sess.ID == "" {
		s.seq++
		sess.ID = "s" + strconv.Itoa(s.seq)
	}
	sess.IsNew = false
	s.sessions[sess.ID] = sess
	s.mu.Unlock()
	v, err := securecookie.EncodeMulti(sess.Name(), sess.ID, s.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), v, sess.Options))
	return nil
}

var (
	store *MemStore
	srv   *http.Server
	track http.HandlerFunc // a closure over its own map of visits
)

// Visit is what the track handler remembers per visitor.
type Visit struct {
	Path  string
	Count int
}

// newTracker returns a handler that counts visits per visitor id in a map
// only its closure holds (/track?id=N adds, /track?id=N&done=1 deletes).
//
//go:noinline
func newTracker() http.HandlerFunc {
	visits := make(map[string]*Visit)
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		if r == nil { // from main, for the ground truth
			visitsAt = uintptr(oracle.MapHeader(visits))
			return
		}
		id := r.URL.Query().Get("id")
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Query().Get("done") != "" {
			delete(visits, id)
		} else if v := visits[id]; v != nil {
			v.Count++
		} else {
			visits[id] = &Visit{Path: r.URL.Path, Count: 1}
		}
		io.WriteString(w, "ok\n")
	}
}

// visitsAt is the address of the tracker's map: a number, not a pointer,
// so that nothing but the closure holds the map.
var visitsAt uintptr

func login(w http.ResponseWriter, r *http.Request) {
	sess, err := store.Get(r, "sid")
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	sess.Values["user"] = r.URL.Query().Get("user")
	sess.Values["since"] = time.Now().Unix()
	if err := sess.Save(r, w); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	io.WriteString(w, "welcome\n")
}

func logout(w http.ResponseWriter, r *http.Request) {
	sess, err := store.Get(r, "sid")
	if err != nil || sess.IsNew {
		http.Error(w, "not logged in", 403)
		return
	}
	sess.Options.MaxAge = -1
	if err := sess.Save(r, w); err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	io.WriteString(w, "bye\n")
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func get(c *http.Client, url string, cookie *http.Cookie) *http.Response {
	req, err := http.NewRequest("GET", url, nil)
	must(err)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := c.Do(req)
	must(err)
	_, err = io.Copy(io.Discard, resp.Body)
	must(err)
	must(resp.Body.Close())
	if resp.StatusCode != 200 {
		panic(fmt.Sprintf("%s: %s", url, resp.Status))
	}
	return resp
}

// clientRun logs n users in and all but keep of them out again.
func clientRun(base string, n, keep int) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	cookies := make([]*http.Cookie, n)
	for i := 0; i < n; i++ {
		resp := get(c, base+"/login?user=user-"+strconv.Itoa(i), nil)
		for _, ck := range resp.Cookies() {
			if ck.Name == "sid" {
				cookies[i] = ck
			}
		}
		if cookies[i] == nil {
			panic("no session cookie")
		}
	}
	for i := 0; i < n-keep; i++ {
		get(c, base+"/logout", cookies[i])
	}
	for i := 0; i < 5000; i++ {
		get(c, base+"/track?id="+strconv.Itoa(i), nil)
	}
	for i := 0; i < 5000-10; i++ {
		get(c, base+"/track?done=1&id="+strconv.Itoa(i), nil)
	}
	c.CloseIdleConnections()
}

// crowd opens n connections at once, makes one request on each and closes
// them all.
func crowd(addr string, n int) {
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		must(err)
		_, err = io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
		must(err)
		conns[i] = c
	}
	for _, c := range conns {
		buf := make([]byte, 512)
		_, err := c.Read(buf)
		must(err)
	}
	for _, c := range conns {
		must(c.Close())
	}
}

// connCount is len(srv.activeConn), read under the server's lock.
func connCount() int {
	mu := (*sync.Mutex)(oracle.FieldAddr(srv, "mu"))
	mu.Lock()
	defer mu.Unlock()
	m, _ := oracle.Dig(&srv, "main.srv", oracle.Field("activeConn"))
	return reflect.ValueOf(m).Len()
}

func main() {
	store = &MemStore{
		codecs:   securecookie.CodecsFromPairs([]byte("0123456789abcdef0123456789abcdef")),
		options:  &sessions.Options{Path: "/", MaxAge: 3600, HttpOnly: true},
		sessions: make(map[string]*sessions.Session),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", login)
	mux.HandleFunc("/logout", logout)
	track = newTracker()
	mux.Handle("/track", track)
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()

	done := make(chan struct{})
	go func() {
		clientRun(base, 3000, 10)
		crowd(ln.Addr().String(), 200)
		close(done)
	}()
	<-done
	// The server notices the closed connections in its own goroutines.
	deadline := time.Now().Add(20 * time.Second)
	for connCount() != 0 {
		if time.Now().After(deadline) {
			panic("connections still open: " + strconv.Itoa(connCount()))
		}
		time.Sleep(10 * time.Millisecond)
	}

	t := oracle.NewTruth("httpsessions", 100)
	m, path := oracle.Dig(&store, "main.store", oracle.Field("sessions"))
	t.Add("store.sessions", "3000 logins, 10 left", path, m)
	for id := range store.sessions {
		m, path = oracle.Dig(&store, "main.store", oracle.Field("sessions"), oracle.MapValue{Key: id},
			oracle.Field("Values"))
		t.Add("store.sessions["+id+"].Values", "2 values", path, m).Group = "store.sessions[*].Values"
	}
	m, path = oracle.Dig(&srv, "main.srv", oracle.Field("activeConn"))
	t.Add("srv.activeConn", "200 connections at once, all closed", path, m)
	// Before Go 1.23 the DWARF does not say where a closure keeps what it
	// captured: the closure object is untyped memory, and the path through
	// it is conservative.
	track(nil, nil)
	tm := t.AddAt("track.visits", "a closure's map, 5000 visitors, 10 left", "main.track.(closure main.newTracker.func1).visits",
		"", oracle.MapDescriptor(map[string]*Visit(nil)), func() uintptr { return visitsAt })
	if !oracle.AtLeast(1, 23) {
		tm.Root, tm.AnyRoot = `re:main\.track([^A-Za-z0-9_].*)?`, true
	}
	t.Crash()
}
