package perf

// Event types (perf_event_attr.type).
const (
	TypeHardware   = 0
	TypeSoftware   = 1
	TypeTracepoint = 2
	TypeHWCache    = 3
	TypeRaw        = 4
	TypeBreakpoint = 5
)

// Attr sizes: the first version Linux knew (VER0) and the size of the attr
// this kernel knows (VER8); larger attrs are accepted when the extra bytes
// are zero, as Linux's copy_struct_from_user does. PageSize bounds it.
const (
	AttrSizeVer0 = 64
	AttrSize     = 136
	AttrMaxSize  = 4096
)

// Offsets in perf_event_attr of the fields the LWK reads.
const (
	OffType       = 0
	OffSize       = 4
	OffConfig     = 8
	OffSamplePer  = 16 // sample_period or sample_freq
	OffSampleType = 24
	OffReadFormat = 32
	OffFlags      = 40  // the bitfield word: disabled, inherit, ...
	OffReserved2  = 110 // __reserved_2 (u16)
	OffReserved3  = 116 // __reserved_3 (u32)
)

// Bits of the attr's flag word.
const (
	FlagDisabled     = 1 << 0
	FlagInherit      = 1 << 1
	FlagExclKernel   = 1 << 5
	FlagFreq         = 1 << 10
	FlagEnableOnExec = 1 << 12
	// FlagsReserved are the bits past the last Linux defines (sigtrap is
	// bit 37); Linux refuses attrs that set them.
	FlagsReserved = 0xffffffc000000000
)

// perf_event_open's flags.
const (
	FlagFDNoGroup = 1 << 0
	FlagFDOutput  = 1 << 1
	FlagPIDCgroup = 1 << 2
	FlagFDCloexec = 1 << 3
	FlagsAll      = FlagFDNoGroup | FlagFDOutput | FlagPIDCgroup | FlagFDCloexec
)

// Read formats (attr.read_format); FormatMax bounds the known bits.
const (
	FormatTotalTimeEnabled = 1 << 0
	FormatTotalTimeRunning = 1 << 1
	FormatID               = 1 << 2
	FormatGroup            = 1 << 3
	FormatLost             = 1 << 4
	FormatMax              = 1 << 5
)

// SampleMax bounds attr.sample_type's known bits (PERF_SAMPLE_MAX).
const SampleMax = 1 << 26

// ioctls on an event's fd ('$' type).
const (
	IocEnable           = 0x2400
	IocDisable          = 0x2401
	IocRefresh          = 0x2402
	IocReset            = 0x2403
	IocPeriod           = 0x40082404
	IocSetOutput        = 0x2405
	IocSetFilter        = 0x40082406
	IocID               = 0x80082407
	IocSetBPF           = 0x40042408
	IocPauseOutput      = 0x40042409
	IocQueryBPF         = 0xc008240a
	IocModifyAttributes = 0x4008240b
	// IocFlagGroup applies ENABLE, DISABLE and RESET to the whole group.
	IocFlagGroup = 1
)
