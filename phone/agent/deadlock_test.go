package agent

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// A listener that reads the agent (as the phone's does: Snapshot) while
// other goroutines commit changes must not deadlock, and every listener
// still hears the changes in commit order. (commit used to take the
// listeners' lock while holding the agent's: a listener reading the agent
// then waited for a commit that waited for it.)
func TestListenerReadsWhileOthersCommit(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var heard []Change
	a.Listen(func(c, prev Change, _ Source) {
		runtime.Gosched() // let a committer take the agent's lock first
		_ = a.Snapshot()  // then read the agent from inside the listener
		mu.Lock()
		if n := len(heard); n > 0 && !same(heard[n-1], prev) {
			t.Errorf("heard %v after %v, but its previous status is %v: out of order", c, heard[n-1], prev)
		}
		heard = append(heard, c)
		mu.Unlock()
	})
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				if (i+g)%2 == 0 {
					_, _, _ = a.Set(string(NotReady), "")
				} else {
					_, _, _ = a.Set(string(Free), "")
				}
				_ = a.Snapshot()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("commits and a listener reading the agent deadlocked")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(heard) == 0 || !same(heard[len(heard)-1], a.Status()) {
		t.Fatalf("the last change heard is not the agent's status (%d heard)", len(heard))
	}
}
