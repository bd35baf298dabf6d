package hil_test

import (
	"fmt"
	"strings"

	"deskphone/tools/hil"
)

// A script is one step per line; expect steps wait with a deadline.
func ExampleParse() {
	s, err := hil.Parse(strings.NewReader(`
press 1 0 0 2 call
expect display "Talking 1002" within 5s
expect event onEnded reason=RemoteBye within 10s
`), "call.hil")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, st := range s.Steps {
		fmt.Printf("%d: %s %s %q within %s\n", st.Line, st.Verb, st.What, st.Args, st.Within)
	}
	// Output:
	// 2: press  ["1" "0" "0" "2" "call"] within 0s
	// 3: expect display ["Talking 1002"] within 5s
	// 4: expect event ["onEnded" "reason=RemoteBye"] within 10s
}
