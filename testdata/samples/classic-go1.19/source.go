package main

// The demo: a toy session service whose maps show the typical problem.
// Sessions came and went, so the sessions map and the response cache keep
// the storage of their peak; one shard of the user index had a burst; the
// rate-limit table is healthy.  `mapstates -demo` builds it; the samples in
// testdata/samples/ are cores of this mode.

import "fmt"

// SessionService is reached through the pointer svc.
type SessionService struct {
	name   string
	cache  map[string][]byte // rendered pages, by URL
	limits map[string]int    // requests left, by client
}

var (
	svc   *SessionService
	users map[int]string // user id -> name: healthy
)

func buildDemo(r *heldMaps) {
	// 30000 logins over the day; 12 sessions still open.
	sessions = make(map[string]*Session)
	churnSessions(sessions, 30000, 12)
	r.add("sessions", "30000 logins, 12 open", sessions, "main.sessions")

	svc = &SessionService{name: "frontend", cache: make(map[string][]byte), limits: make(map[string]int)}
	for i := 0; i < 8000; i++ {
		svc.cache[key("/article/", i)] = []byte("<html>...</html>")
	}
	for i := 40; i < 8000; i++ {
		delete(svc.cache, key("/article/", i))
	}
	for i := 0; i < 50; i++ {
		svc.limits[key("client-", i)] = 100 - i
	}
	r.add("svc.cache", "8000 pages cached, 40 left", svc.cache, "main.svc.cache")
	r.add("svc.limits", "50 clients", svc.limits, "main.svc.limits")

	shards = make([]map[string]int, 4)
	for s := range shards {
		shards[s] = make(map[string]int)
		n := 500
		if s == 2 {
			n = 10000 // a burst of sign-ups, since removed
		}
		for i := 0; i < n; i++ {
			shards[s][key("user-", i)] = i
		}
		if s == 2 {
			for i := 5; i < n; i++ {
				delete(shards[s], key("user-", i))
			}
		}
		r.add(fmt.Sprintf("shards[%d]", s), "user index shard", shards[s], fmt.Sprintf("main.shards[%d]", s))
	}

	users = make(map[int]string)
	for i := 0; i < 300; i++ {
		users[i] = key("name-", i)
	}
	r.add("users", "300 users", users, "main.users")
}
