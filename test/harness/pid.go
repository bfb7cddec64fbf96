package harness

// PID returns the process's id, for reading its /proc entries (the load
// harness reads RSS and CPU time there).
func (p *Process) PID() int { return p.cmd.Process.Pid }
