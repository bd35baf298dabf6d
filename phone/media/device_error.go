package media

// deviceError reports a failed sound device to StreamConfig.OnDeviceError;
// callers report once (they hold the warn-once flag).
func (s *Stream) deviceError(which string, err error) {
	if s.cfg.OnDeviceError != nil {
		s.cfg.OnDeviceError(which, err)
	}
}
