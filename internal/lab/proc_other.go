//go:build !linux

package lab

import "syscall"

func procAttr() *syscall.SysProcAttr { return nil }
