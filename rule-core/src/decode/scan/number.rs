//! Numbers, read: serde_json's own conversion (`parse_integer`,
//! `parse_decimal`, `parse_exponent`, `f64_from_parts`), step by step, so
//! that the same text gives the same bits as when serde_json decoded the
//! event (see the parent module for why not correctly rounded parsing).

use super::{Code, Number, Reader, Result};

impl Reader<'_> {
    // ---- numbers, read -------------------------------------------------

    /// Reads a number after its `-`, if any, was eaten (`parse_integer`).
    pub(in crate::decode) fn number(&mut self, positive: bool) -> Result<Number> {
        match self.next() {
            None => Err(self.error(Code::EofWhileParsingValue)),
            Some(b'0') => match self.peek_or_null() {
                b'0'..=b'9' => Err(self.peek_error(Code::InvalidNumber)),
                _ => self.number_rest(positive, 0),
            },
            Some(c @ b'1'..=b'9') => {
                let mut significand = u64::from(c - b'0');
                loop {
                    match self.peek_or_null() {
                        c @ b'0'..=b'9' => {
                            let digit = u64::from(c - b'0');
                            if overflows_u64(significand, digit) {
                                return Ok(Number::F(self.long_integer(positive, significand)?));
                            }
                            self.index += 1;
                            significand = significand * 10 + digit;
                        }
                        _ => return self.number_rest(positive, significand),
                    }
                }
            }
            Some(_) => Err(self.error(Code::InvalidNumber)),
        }
    }

    /// `parse_number`: what follows the integer part.
    fn number_rest(&mut self, positive: bool, significand: u64) -> Result<Number> {
        Ok(match self.peek_or_null() {
            b'.' => Number::F(self.decimal(positive, significand, 0)?),
            b'e' | b'E' => Number::F(self.exponent(positive, significand, 0)?),
            _ if positive => Number::U(significand),
            _ => {
                let neg = (significand as i64).wrapping_neg();
                // A float on underflow, and for `-0`.
                if neg >= 0 {
                    Number::F(-(significand as f64))
                } else {
                    Number::I(neg)
                }
            }
        })
    }

    /// `parse_decimal`, at the `.`.
    fn decimal(
        &mut self,
        positive: bool,
        mut significand: u64,
        exponent_before: i32,
    ) -> Result<f64> {
        self.index += 1;
        let mut exponent_after = 0i32;
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            let digit = u64::from(c - b'0');
            if overflows_u64(significand, digit) {
                let exponent = exponent_before.wrapping_add(exponent_after);
                return self.decimal_overflow(positive, significand, exponent);
            }
            self.index += 1;
            significand = significand * 10 + digit;
            exponent_after = exponent_after.wrapping_sub(1);
        }
        if exponent_after == 0 {
            return Err(match self.peek() {
                Some(_) => self.peek_error(Code::InvalidNumber),
                None => self.peek_error(Code::EofWhileParsingValue),
            });
        }
        let exponent = exponent_before.wrapping_add(exponent_after);
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.f64_from_parts(positive, significand, exponent),
        }
    }

    /// `parse_exponent`, at the `e`.
    fn exponent(&mut self, positive: bool, significand: u64, starting: i32) -> Result<f64> {
        self.index += 1;
        let positive_exp = match self.peek_or_null() {
            b'+' => {
                self.index += 1;
                true
            }
            b'-' => {
                self.index += 1;
                false
            }
            _ => true,
        };
        let mut exp = match self.next() {
            None => return Err(self.error(Code::EofWhileParsingValue)),
            Some(c @ b'0'..=b'9') => i32::from(c - b'0'),
            Some(_) => return Err(self.error(Code::InvalidNumber)),
        };
        while let c @ b'0'..=b'9' = self.peek_or_null() {
            self.index += 1;
            let digit = i32::from(c - b'0');
            if exp >= i32::MAX / 10 && (exp > i32::MAX / 10 || digit > i32::MAX % 10) {
                return self.exponent_overflow(positive, significand == 0, positive_exp);
            }
            exp = exp * 10 + digit;
        }
        let exponent = if positive_exp {
            starting.saturating_add(exp)
        } else {
            starting.saturating_sub(exp)
        };
        self.f64_from_parts(positive, significand, exponent)
    }

    /// `parse_long_integer`: digits past `u64` only scale the significand.
    #[cold]
    fn long_integer(&mut self, positive: bool, significand: u64) -> Result<f64> {
        let mut exponent = 0i32;
        loop {
            match self.peek_or_null() {
                b'0'..=b'9' => {
                    self.index += 1;
                    exponent = exponent.wrapping_add(1);
                }
                b'.' => return self.decimal(positive, significand, exponent),
                b'e' | b'E' => return self.exponent(positive, significand, exponent),
                _ => return self.f64_from_parts(positive, significand, exponent),
            }
        }
    }

    /// `parse_decimal_overflow`: fraction digits past `u64` are dropped.
    #[cold]
    fn decimal_overflow(&mut self, positive: bool, significand: u64, exponent: i32) -> Result<f64> {
        while let b'0'..=b'9' = self.peek_or_null() {
            self.index += 1;
        }
        match self.peek_or_null() {
            b'e' | b'E' => self.exponent(positive, significand, exponent),
            _ => self.f64_from_parts(positive, significand, exponent),
        }
    }

    /// `parse_exponent_overflow`: an exponent past `i32`.
    #[cold]
    fn exponent_overflow(&mut self, positive: bool, zero: bool, positive_exp: bool) -> Result<f64> {
        if !zero && positive_exp {
            return Err(self.error(Code::NumberOutOfRange));
        }
        while let b'0'..=b'9' = self.peek_or_null() {
            self.index += 1;
        }
        Ok(if positive { 0.0 } else { -0.0 })
    }

    /// `f64_from_parts` (not `float_roundtrip`): the significand times or
    /// over one power of ten; infinity is refused.
    fn f64_from_parts(&self, positive: bool, significand: u64, mut exponent: i32) -> Result<f64> {
        let mut f = significand as f64;
        loop {
            match POW10.get(exponent.wrapping_abs() as usize) {
                Some(&pow) => {
                    if exponent >= 0 {
                        f *= pow;
                        if f.is_infinite() {
                            return Err(self.error(Code::NumberOutOfRange));
                        }
                    } else {
                        f /= pow;
                    }
                    break;
                }
                None => {
                    if f == 0.0 {
                        break;
                    }
                    if exponent >= 0 {
                        return Err(self.error(Code::NumberOutOfRange));
                    }
                    f /= 1e308;
                    exponent += 308;
                }
            }
        }
        Ok(if positive { f } else { -f })
    }
}

/// serde_json's `overflow!(a * 10 + b, u64::MAX)`.
#[inline]
fn overflows_u64(a: u64, digit: u64) -> bool {
    a >= u64::MAX / 10 && (a > u64::MAX / 10 || digit > u64::MAX % 10)
}

/// serde_json's table of exact powers of ten, for [`Reader::f64_from_parts`].
static POW10: [f64; 309] = [
    1e000, 1e001, 1e002, 1e003, 1e004, 1e005, 1e006, 1e007, 1e008, 1e009, 1e010, 1e011, 1e012,
    1e013, 1e014, 1e015, 1e016, 1e017, 1e018, 1e019, 1e020, 1e021, 1e022, 1e023, 1e024, 1e025,
    1e026, 1e027, 1e028, 1e029, 1e030, 1e031, 1e032, 1e033, 1e034, 1e035, 1e036, 1e037, 1e038,
    1e039, 1e040, 1e041, 1e042, 1e043, 1e044, 1e045, 1e046, 1e047, 1e048, 1e049, 1e050, 1e051,
    1e052, 1e053, 1e054, 1e055, 1e056, 1e057, 1e058, 1e059, 1e060, 1e061, 1e062, 1e063, 1e064,
    1e065, 1e066, 1e067, 1e068, 1e069, 1e070, 1e071, 1e072, 1e073, 1e074, 1e075, 1e076, 1e077,
    1e078, 1e079, 1e080, 1e081, 1e082, 1e083, 1e084, 1e085, 1e086, 1e087, 1e088, 1e089, 1e090,
    1e091, 1e092, 1e093, 1e094, 1e095, 1e096, 1e097, 1e098, 1e099, 1e100, 1e101, 1e102, 1e103,
    1e104, 1e105, 1e106, 1e107, 1e108, 1e109, 1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116,
    1e117, 1e118, 1e119, 1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
    1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139, 1e140, 1e141, 1e142,
    1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149, 1e150, 1e151, 1e152, 1e153, 1e154, 1e155,
    1e156, 1e157, 1e158, 1e159, 1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168,
    1e169, 1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179, 1e180, 1e181,
    1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189, 1e190, 1e191, 1e192, 1e193, 1e194,
    1e195, 1e196, 1e197, 1e198, 1e199, 1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207,
    1e208, 1e209, 1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219, 1e220,
    1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229, 1e230, 1e231, 1e232, 1e233,
    1e234, 1e235, 1e236, 1e237, 1e238, 1e239, 1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246,
    1e247, 1e248, 1e249, 1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
    1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269, 1e270, 1e271, 1e272,
    1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279, 1e280, 1e281, 1e282, 1e283, 1e284, 1e285,
    1e286, 1e287, 1e288, 1e289, 1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298,
    1e299, 1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308,
];
