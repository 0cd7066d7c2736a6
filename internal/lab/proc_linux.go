package lab

import "syscall"

// procAttr makes the kernel kill a tool when the process that started it
// dies, so an interrupted test leaves no tcpdump or nginx behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
