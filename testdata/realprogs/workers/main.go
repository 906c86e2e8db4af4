// Command workers is a job runner with no third-party code, for
// tests/e2e/realprog.py: the shapes a service's own maps take that mapscan
// finds hardest.
//
//   - worker: a goroutine whose local map (make(map...) does not escape, so
//     the compiler keeps its header in the frame) held 100,000 jobs and now
//     holds 10; the goroutine is parked in a select.  Only its frame holds
//     the map, and DWARF does not say where the header is.
//   - drain: the same with a plain channel receive.
//   - dispatch: a goroutine parked in a select of four cases, one of which
//     sends the map main.pending, so runtime.selectgo's frame (cas1, a
//     pointer to an array typed [65536]scase) is on its stack.
//   - maps that only grew, of several sizes, one made with a size hint
//     (make(map[int]int, 100) filled to 100): nothing reclaimable.
//   - tenants: a []Tenant of 2,000 with a map in each, one of them churned.
//   - chain: a 60-link list with a map at its end (1,000 -> 4), whose
//     path repeats .Next 59 times (mapscan writes it .Next×59).
//   - library: a binary search tree of 11 shelves with a map in each (300
//     -> 10); a path into it spells the descent below the root in braces,
//     main.library.Root{.Left.Right}.Books, and the maps below the root are
//     one owner, main.library.Root{*}.Books.
//   - byUser: a sync.Map of 40 users' state, each with a map (200 -> 10).
//     From Go 1.24 a sync.Map is an internal/sync.HashTrieMap, a trie
//     whose child pointers are typed *node (one bool): mapscan walks it
//     as a map, main.byUser.m["user-7"].(*main.userState).Seen.
//   - jobIndex: a sync.Map (Go 1.19-1.23, whose sync.Map is two Go maps)
//     that held 20,000 jobs: its read map keeps every key of a deleted
//     entry, and its dirty map was made for all of them and holds 11.
//
// It must build with Go 1.19: no min, max or clear.  It writes its ground
// truth (testdata/oracle) to $MAPSCAN_ORACLE and dies with a core.
package main

import (
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"unsafe"

	"mapscan/testdata/oracle"
)

type Job struct {
	ID      int
	Payload string
}

type Tenant struct {
	Name  string
	Index map[string]int
}

var (
	pending  map[string]*Job    // sent by dispatch's select
	hinted   map[int]int        // make(map[int]int, 100), 100 inserts
	grown1k  map[int]int        // 1,024 inserts, no hint
	grown8k  map[string]string  // 8,192 inserts
	grownSet map[int64]struct{} // 32,768 inserts
	tenants  []Tenant
	jobIndex sync.Map
	byUser   sync.Map // "user-N" -> *userState
	chain    *Link // a 60-link list, a map at its end
	library  Library
)

// Shelf is a binary search tree's node (two pointers to its own type: a
// tree to mapscan); every one holds a map.
type Shelf struct {
	Key         int
	Left, Right *Shelf
	Books       map[string]int
}

type Library struct {
	Root *Shelf
}

// shelve adds a shelf for key k and returns the steps from the root to it
// (".Left.Right"), as mapscan spells them.
func (l *Library) shelve(k int) (*Shelf, string) {
	at, steps := &l.Root, ""
	for *at != nil {
		if k < (*at).Key {
			at, steps = &(*at).Left, steps+".Left"
		} else {
			at, steps = &(*at).Right, steps+".Right"
		}
	}
	s := &Shelf{Key: k, Books: make(map[string]int)}
	for i := 0; i < 300; i++ {
		s.Books["b"+strconv.Itoa(i)] = i
	}
	for i := 0; i < 300-10; i++ {
		delete(s.Books, "b"+strconv.Itoa(i))
	}
	*at = s
	return s, steps
}

// userState is what byUser holds per user.
type userState struct {
	Name string
	Seen map[string]int
}

// Link is a linked list's node; the last one holds a map.
type Link struct {
	Next *Link
	M    map[string]int
}

// addrMask hides header addresses while they travel outside their
// goroutine, so that no word outside the frame points at the map.
const addrMask = 0x5a5a_5a5a_5a5a_5a5a

type ask chan uintptr

// worker fills its local map, empties most of it, and then serves
// requests for the header's address until the core.  byID must not escape
// (tests/e2e/realprog.py asks the compiler).
func worker(ready chan<- int, ctl <-chan ask, quit <-chan struct{}) {
	byID := make(map[int]*Job)
	for i := 0; i < 100000; i++ {
		byID[i] = &Job{ID: i, Payload: "job"}
	}
	for i := 0; i < 100000-10; i++ {
		delete(byID, i)
	}
	ready <- oracle.Goid()
	for {
		select {
		case reply := <-ctl:
			reply <- jobsAt(byID) ^ addrMask
		case <-quit:
			runtime.KeepAlive(byID)
			return
		}
	}
}

// jobsAt and seenAt return a map's header address.  They are separate
// functions so that the goroutines never take the address of their map
// variables: an address-taken variable gets a stack slot DWARF describes,
// which a normal program's map variable does not have.
//
//go:noinline
func jobsAt(m map[int]*Job) uintptr { return *(*uintptr)(unsafe.Pointer(&m)) }

//go:noinline
func seenAt(m map[string]int) uintptr { return *(*uintptr)(unsafe.Pointer(&m)) }

// drain is worker with a plain receive.
func drain(ready chan<- int, ctl <-chan ask) {
	seen := make(map[string]int)
	for i := 0; i < 30000; i++ {
		seen["k"+strconv.Itoa(i)] = i
	}
	for i := 0; i < 30000-3; i++ {
		delete(seen, "k"+strconv.Itoa(i))
	}
	ready <- oracle.Goid()
	for reply := range ctl {
		reply <- seenAt(seen) ^ addrMask
	}
	runtime.KeepAlive(seen)
}

// dispatch waits on four channels, one a send of pending.
func dispatch(ready chan<- int, a, c <-chan int, out chan<- map[string]*Job, d <-chan string) {
	ready <- oracle.Goid()
	for {
		select {
		case <-a:
		case out <- pending:
		case <-c:
		case s := <-d:
			_ = s
		}
	}
}

func main() {
	pending = make(map[string]*Job)
	for i := 0; i < 5000; i++ {
		pending["job-"+strconv.Itoa(i)] = &Job{ID: i}
	}
	for i := 0; i < 5000-20; i++ {
		delete(pending, "job-"+strconv.Itoa(i))
	}
	// Maps that only grew hold about what a new map would, but only at a
	// load where the runtime's preallocated overflow buckets suffice:
	// overflow buckets past those are chance (the hash seed), and
	// docs/figures.md's ideal_bytes does not count them.  So the counts
	// are about 4 entries per bucket on every Go (growth to 2^B starts
	// past 3.25 per bucket, 3 on Go 1.21, and is over by 3.75), and the
	// hinted map, which 100 entries fill to 6.25 per bucket (16 buckets;
	// 32 on Go 1.21), is remade until its chains fit the spares.
	for try := 0; ; try++ {
		hinted = make(map[int]int, 100)
		for i := 0; i < 100; i++ {
			hinted[i] = i
		}
		f := oracle.Measure("hinted", hinted)
		if f.ReclaimableBytes*10 <= f.RetainedBytes || try == 100 {
			break
		}
	}
	grown1k = make(map[int]int)
	for i := 0; i < 1024; i++ {
		grown1k[i*3] = i
	}
	grown8k = make(map[string]string)
	for i := 0; i < 8192; i++ {
		grown8k["key-"+strconv.Itoa(i)] = "value"
	}
	chain = &Link{}
	last := chain
	for i := 1; i < 60; i++ {
		last.Next = &Link{}
		last = last.Next
	}
	last.M = make(map[string]int)
	for i := 0; i < 1000; i++ {
		last.M["k"+strconv.Itoa(i)] = i
	}
	for i := 0; i < 1000-4; i++ {
		delete(last.M, "k"+strconv.Itoa(i))
	}
	grownSet = make(map[int64]struct{})
	for i := int64(0); i < 32768; i++ {
		grownSet[i*1000003] = struct{}{}
	}
	tenants = make([]Tenant, 2000)
	for i := range tenants {
		tenants[i] = Tenant{Name: "t" + strconv.Itoa(i), Index: map[string]int{"docs": i}}
	}
	for i := 0; i < 20000; i++ {
		tenants[1234].Index["doc-"+strconv.Itoa(i)] = i
	}
	for i := 0; i < 20000; i++ {
		delete(tenants[1234].Index, "doc-"+strconv.Itoa(i))
	}

	for i := 0; i < 20000; i++ {
		jobIndex.Store(i, &Job{ID: i})
	}
	for i := 0; i < 20000; i++ {
		jobIndex.Load(i) // the misses promote the dirty map to the read map
	}
	for i := 0; i < 20000-10; i++ {
		jobIndex.Delete(i) // a read entry is only marked deleted
	}
	jobIndex.Store(-1, &Job{ID: -1}) // a new dirty map, sized for all the read map's keys

	users := make([]*userState, 40)
	for i := range users {
		u := &userState{Name: "user-" + strconv.Itoa(i), Seen: make(map[string]int)}
		for j := 0; j < 200; j++ {
			u.Seen["p"+strconv.Itoa(j)] = j
		}
		for j := 0; j < 200-10; j++ {
			delete(u.Seen, "p"+strconv.Itoa(j))
		}
		users[i] = u
		byUser.Store(u.Name, u)
	}

	ready := make(chan int)
	wctl, dctl := make(chan ask), make(chan ask)
	go worker(ready, wctl, make(chan struct{}))
	wid := <-ready
	go drain(ready, dctl)
	did := <-ready
	go dispatch(ready, make(chan int), make(chan int), make(chan map[string]*Job), make(chan string))
	sid := <-ready
	where := func(ctl chan ask) func() uintptr {
		return func() uintptr {
			reply := make(ask)
			ctl <- reply
			return <-reply ^ addrMask
		}
	}

	t := oracle.NewTruth("workers", 2000)
	t.Selects = []oracle.SelectWait{{Goroutine: sid, Func: "main.dispatch", Cases: 4}}
	w := t.AddAt("worker.byID", "goroutine-local, header in the frame, 100000 -> 10, parked in select",
		"re:goroutine "+strconv.Itoa(wid)+` \(main\.worker\) → .*`, "goroutine-stack",
		oracle.MapDescriptor(map[int]*Job(nil)), where(wctl))
	w.AnyRoot = true
	d := t.AddAt("drain.seen", "goroutine-local, header in the frame, 30000 -> 3, parked in a receive",
		"re:goroutine "+strconv.Itoa(did)+` \(main\.drain\) → .*`, "goroutine-stack",
		oracle.MapDescriptor(map[string]int(nil)), where(dctl))
	d.AnyRoot = true
	t.Add("pending", "5000 -> 20, also sent by a select", "main.pending", pending)
	t.Add("hinted", "make(map[int]int, 100), 100 inserts", "main.hinted", hinted).Grown = true
	t.Add("grown1k", "1024 inserts", "main.grown1k", grown1k).Grown = true
	t.Add("grown8k", "8192 inserts", "main.grown8k", grown8k).Grown = true
	t.Add("grownSet", "32768 inserts", "main.grownSet", grownSet).Grown = true
	// 59 .Next in a row: mapscan spells them as one step and a count.
	t.Add("chain.M", "at the end of a 60-link list, 1000 -> 4", "main.chain.Next×59.M", last.M)
	for i := range tenants {
		m, path := oracle.Dig(&tenants, "main.tenants", oracle.Index(i), oracle.Field("Index"))
		tm := t.Add("tenants["+strconv.Itoa(i)+"].Index", "1 entry", path, m)
		if i == 1234 {
			tm.State = "20000 inserted, all but 1 deleted"
		} else {
			tm.Group = "tenants[*].Index"
		}
	}
	for _, k := range []int{50, 25, 75, 12, 37, 62, 87, 6, 18, 31, 43} {
		s, steps := library.shelve(k)
		if steps == "" {
			t.Add("library.Root.Books", "the tree's root, 300 -> 10", "main.library.Root.Books", s.Books)
			continue
		}
		tm := t.Add("library.Root{"+steps+"}.Books", "a shelf below the root, 300 -> 10",
			"main.library.Root{"+steps+"}.Books", s.Books)
		tm.Group = "library.Root{*}.Books"
		tm.Owner = "main.library.Root{*}.Books"
	}
	addSyncMap(t)
	addByUser(t, users)
	t.Crash()
}

// addSyncMap registers jobIndex's two maps where sync.Map has them (Go
// 1.19-1.23; from 1.24 it is a hash trie without Go maps).  The read map
// hangs off an atomic.Value (1.19) or atomic.Pointer (1.20-1.23), a word
// DWARF types as unsafe.Pointer or any, so its path is mapscan's choice.
// addByUser: the maps byUser holds, from Go 1.24 (before, a sync.Map is
// two Go maps, which jobIndex tests).
func addByUser(t *oracle.Truth, users []*userState) {
	if !oracle.AtLeast(1, 24) {
		return
	}
	for _, u := range users {
		tm := t.Add("byUser["+u.Name+"].Seen", "a sync.Map's value, 200 -> 10",
			`main.byUser.m["`+u.Name+`"].(*main.userState).Seen`, u.Seen)
		tm.Group = "byUser[*].Seen"
		tm.Owner = "main.byUser.m[*].(*main.userState).Seen"
	}
}

func addSyncMap(t *oracle.Truth) {
	if oracle.AtLeast(1, 24) {
		return
	}
	read := oracle.FieldAddr(&jobIndex, "read")
	var ro unsafe.Pointer // the *readOnly
	if oracle.AtLeast(1, 20) {
		ro = *(*unsafe.Pointer)(read) // atomic.Pointer[readOnly]: its only word
	} else {
		ro = (*[2]unsafe.Pointer)(read)[1] // atomic.Value{v any}: the boxed readOnly
	}
	dirty := reflect.ValueOf(&jobIndex).Elem().FieldByName("dirty")
	mt := dirty.Type()
	m := reflect.NewAt(mt, ro).Elem().Interface() // readOnly.m, its first field
	r := t.Add("jobIndex.read.m", "20000 stored, loaded, 19990 deleted", `re:main\.jobIndex\.read.*`, m)
	r.AnyRoot = true
	d, path := oracle.Dig(&jobIndex, "main.jobIndex", oracle.Field("dirty"))
	t.Add("jobIndex.dirty", "made for 20000, holds 11", path, d)
}
