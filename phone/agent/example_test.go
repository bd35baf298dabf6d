package agent_test

import (
	"fmt"

	"deskphone/phone/agent"
)

// An agent's day in miniature: not ready, rest asked for during a call,
// which begins when the call ends.
func Example() {
	a, err := agent.New(agent.Options{RestReasons: []string{"Meal", "Meeting"}})
	if err != nil {
		panic(err)
	}
	a.Listen(func(now, prev agent.Change, src agent.Source) {
		fmt.Printf("%s → %s %s (by %s)\n", prev.Status, now.Status, now.Reason, src)
	})
	_, _, _ = a.Set("notReady", "")
	_, _, _ = a.Set(agent.StopNotReady, "")
	a.CallStarted("call-1")
	a.CallTalked("call-1")
	_, pending, _ := a.Set("rest", "Meal")
	fmt.Println("pending:", pending)
	a.CallEnded("call-1")
	if ok, st := a.Accepts(); !ok {
		fmt.Println("inbound calls refused while", st.Status)
	}
	// Output:
	// free → notReady  (by phone)
	// notReady → free  (by phone)
	// free → busy  (by call)
	// pending: true
	// busy → rest Meal (by phone)
	// inbound calls refused while rest
}
