package ctl_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"deskphone/tools/ctl"
)

// Run is `deskphone ctl` with its environment and streams passed in; here a
// stand-in for the phone answers POST /v1/call.
func ExampleRun() {
	phone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"sessionId":"3f2a9c"}`)
	}))
	defer phone.Close()
	env := map[string]string{"DESKPHONE_API": phone.URL}
	code := ctl.Run(context.Background(), []string{"call", "1002", "-remark", "order 17"},
		func(k string) string { return env[k] }, os.Stdout, os.Stderr)
	fmt.Println("exit", code)
	// Output:
	// 3f2a9c
	// exit 0
}
