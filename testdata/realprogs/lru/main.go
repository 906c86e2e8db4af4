// Command lru caches user profiles and sessions with
// github.com/hashicorp/golang-lru/v2, for tests/e2e/realprog.py: a plain LRU
// that held 50,000 profiles of which 10 remain, one that churns at its size
// limit, and expirable LRUs (expirable.NewLRU: an items map plus 100
// bucket maps each) that held 100,000 sessions, one in a global and one in
// main's local variable.  It writes its ground truth (testdata/oracle) to
// $MAPSCAN_ORACLE and dies with a core.
package main

import (
	"fmt"
	"runtime"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"mapscan/testdata/oracle"
)

type Profile struct {
	ID    int
	Name  string
	Email string
}

type Session struct {
	ID   string
	User int
	Seen time.Time
}

var (
	profiles *lru.Cache[int, *Profile]        // 50,000 added, 10 left
	recent   *lru.Cache[string, []byte]       // size 1000, 20,000 added: evicts all the time
	sessions *expirable.LRU[string, *Session] // 100,000 logins, 10 left
	tokens   *expirable.LRU[uint64, string]   // 300 tokens, only grew
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func main() {
	profiles = must(lru.New[int, *Profile](50000))
	for i := 0; i < 50000; i++ {
		profiles.Add(i, &Profile{ID: i, Name: "user-" + strconv.Itoa(i), Email: strconv.Itoa(i) + "@example.com"})
	}
	for i := 0; i < 50000-10; i++ {
		profiles.Remove(i)
	}

	recent = must(lru.New[string, []byte](1000))
	for i := 0; i < 20000; i++ {
		recent.Add("/page/"+strconv.Itoa(i), []byte("<html>"+strconv.Itoa(i)+"</html>"))
	}

	// A TTL long enough that the cleanup goroutine never ticks before the
	// core: nothing may write a map after it is measured.
	const ttl = 10 * time.Hour
	sessions = expirable.NewLRU[string, *Session](0, nil, ttl)
	for i := 0; i < 100000; i++ {
		id := "sess-" + strconv.Itoa(i)
		sessions.Add(id, &Session{ID: id, User: i % 977})
	}
	for i := 0; i < 100000-10; i++ {
		sessions.Remove("sess-" + strconv.Itoa(i))
	}

	tokens = expirable.NewLRU[uint64, string](0, nil, ttl)
	for i := uint64(0); i < 300; i++ {
		tokens.Add(i*7919, "token-"+strconv.FormatUint(i, 10))
	}

	// An expirable LRU held only by main's local variable ex.
	ex := expirable.NewLRU[int, *Session](0, nil, ttl)
	for i := 0; i < 20000; i++ {
		ex.Add(i, &Session{ID: strconv.Itoa(i), User: i})
	}
	for i := 0; i < 20000-5; i++ {
		ex.Remove(i)
	}

	t := oracle.NewTruth("lru", 100)
	m, path := oracle.Dig(&profiles, "main.profiles", oracle.Field("lru"), oracle.Field("items"))
	t.Add("profiles.items", "50000 added, 10 left", path, m)
	m, path = oracle.Dig(&recent, "main.recent", oracle.Field("lru"), oracle.Field("items"))
	t.Add("recent.items", "size 1000, 20000 added", path, m)
	addExpirable(t, "sessions", &sessions, "main.sessions", "100000 logins, 10 left", false)
	addExpirable(t, "tokens", &tokens, "main.tokens", "300 tokens, only grew", true)
	addExpirable(t, "ex", &ex, "goroutine 1 (main.main) → local ex", "20000 added, 5 left, a local of main", false)
	t.Crash()
	runtime.KeepAlive(ex)
}

// addExpirable registers an expirable LRU's items map and its 100 bucket
// maps (all entries go to the bucket before the next cleanup, 99).
func addExpirable[K comparable, V any](t *oracle.Truth, name string, c **expirable.LRU[K, V], root, state string, grown bool) {
	m, path := oracle.Dig(c, root, oracle.Field("items"))
	t.Add(name+".items", state, path, m).Grown = grown
	for i := 0; i < 100; i++ {
		m, path = oracle.Dig(c, root, oracle.Field("buckets"), oracle.Index(i), oracle.Field("entries"))
		b := t.Add(fmt.Sprintf("%s.buckets[%d].entries", name, i), "expiry bucket", path, m)
		if i == 99 {
			b.Name, b.State, b.Grown = name+".buckets[99].entries", state+" (the bucket in use)", grown
		} else {
			b.Group = name + ".buckets[*].entries"
		}
	}
}
