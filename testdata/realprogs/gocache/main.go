// Command gocache is a session service built on github.com/patrickmn/go-cache,
// for tests/e2e/realprog.py: logins fill the session cache, logouts empty
// most of it, a rate-limit cache only grows, a small feature-flag cache
// stays small.  It writes its ground truth (testdata/oracle) to
// $MAPSCAN_ORACLE and dies with a core.
package main

import (
	"strconv"
	"time"

	cache "github.com/patrickmn/go-cache"

	"mapscan/testdata/oracle"
)

type Session struct {
	ID    string
	User  string
	Since time.Time
	Hits  int
}

var (
	sessions *cache.Cache // 100,000 logins, 10 still logged in
	limits   *cache.Cache // only grew: one counter per client
	flags    *cache.Cache // 5 feature flags
)

func main() {
	// No janitor (cleanup interval 0): nothing may write a map after it is
	// measured.
	sessions = cache.New(time.Hour, 0)
	for i := 0; i < 100000; i++ {
		id := "sess-" + strconv.Itoa(i)
		sessions.Set(id, &Session{ID: id, User: "user-" + strconv.Itoa(i%977), Since: time.Unix(int64(i), 0)}, cache.DefaultExpiration)
	}
	for i := 0; i < 100000-10; i++ {
		sessions.Delete("sess-" + strconv.Itoa(i))
	}

	limits = cache.New(cache.NoExpiration, 0)
	for i := 0; i < 3000; i++ {
		limits.Set("client-"+strconv.Itoa(i), 100, cache.NoExpiration)
	}
	for i := 0; i < 3000; i += 2 {
		if _, err := limits.IncrementInt("client-"+strconv.Itoa(i), -1); err != nil {
			panic(err)
		}
	}

	flags = cache.New(cache.NoExpiration, 0)
	for _, f := range []string{"dark-mode", "beta-search", "new-billing", "fast-path", "audit"} {
		flags.Set(f, true, cache.NoExpiration)
	}

	t := oracle.NewTruth("gocache", 100)
	m, path := oracle.Dig(&sessions, "main.sessions", oracle.Field("cache"), oracle.Field("items"))
	t.Add("sessions.items", "100000 logins, 10 left", path, m)
	m, path = oracle.Dig(&limits, "main.limits", oracle.Field("cache"), oracle.Field("items"))
	t.Add("limits.items", "3000 clients, only grew", path, m).Grown = true
	m, path = oracle.Dig(&flags, "main.flags", oracle.Field("cache"), oracle.Field("items"))
	t.Add("flags.items", "5 flags", path, m)
	t.Crash()
}
