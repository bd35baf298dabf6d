package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture the phone runs on (it is fixed in the kernel ABI).
const clockTicks = 100

// cpuTime is the CPU time (user + system, every thread, the dead ones
// included) process pid has used so far, from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of process %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15) from a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces, so fields are counted after its closing one.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat line %q: no ')' after the command name", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat line has %d fields after the command name, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: utime/stime %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// memory is a process's resident memory, in bytes, from /proc/PID/status:
// the peak (VmHWM) and, now, the anonymous part (heap, stacks: RssAnon)
// and the file-backed part (the executable's and libraries' pages, which
// the kernel can drop and read again: RssFile).
type memory struct {
	Peak, Anon, File int64
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	defer func() { _ = f.Close() }() // read-only
	return parseMemory(bufio.NewScanner(f))
}

// parseMemory reads "VmHWM:   10896 kB", RssAnon and RssFile from
// /proc/PID/status.
func parseMemory(sc *bufio.Scanner) (memory, error) {
	var m memory
	fields := map[string]*int64{"VmHWM:": &m.Peak, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	found := 0
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), "\t")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("/proc status: line %q: want a number of kB", sc.Text())
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc status: %s %q: %w", name, f[0], err)
		}
		*dst = kb * 1024
		found++
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found != len(fields) {
		return m, fmt.Errorf("/proc status lacks VmHWM, RssAnon or RssFile (a kernel thread, or a process that has exited)")
	}
	return m, nil
}
