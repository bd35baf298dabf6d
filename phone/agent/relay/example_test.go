package relay_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"deskphone/phone/agent"
	"deskphone/phone/agent/relay"
)

func Example() {
	c, err := relay.New(relay.Options{
		BaseURL: "https://relay.example.com",   // the integrator's relay
		Token:   "device-token-from-the-relay", // its devices file maps it to the agent and extension
		CAFile:  "/etc/deskphone/relay-ca.pem", // optional: a private CA for the relay's certificate
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// The SIP account, from DescribeExtension via the relay.
	if acct, err := c.Provision(ctx); err == nil {
		fmt.Println("register", acct.Extension+"@"+acct.Domain, "via", acct.OutboundProxy, acct.Transport)
	}

	// A status change made on the phone.
	var refused *agent.RefusedError
	switch err := c.Report(ctx, agent.Change{Status: agent.Rest, Reason: "Meal", Since: time.Now()}); {
	case errors.As(err, &refused):
		fmt.Println("the contact center said no:", refused.Message) // go back to the previous status
	case err != nil:
		fmt.Println("out of sync, report again later:", err)
	}

	// Changes made elsewhere, until ctx ends; watch again after a back-off.
	for ctx.Err() == nil {
		err := c.Watch(ctx, func(ch agent.Change) {
			if ch.Kicked {
				fmt.Println("kickedOut")
				return
			}
			fmt.Println("statusChanged", ch.Status, ch.Reason)
		})
		if err != nil {
			time.Sleep(5 * time.Second)
		}
	}
}
