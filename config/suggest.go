package config

import "strings"

// suggest returns the known key closest to an unknown one, or "" if none is
// close enough to be a likely typo.
func suggest(unknown string, known []string) string {
	u := strings.ToLower(unknown)
	best, bestDist := "", len(u)
	for _, k := range known {
		if d := editDistance(u, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if bestDist > 2 || bestDist*2 >= len(u) && bestDist > 0 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b (bytes; keys are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
