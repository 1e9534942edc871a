import { Body, Controller, Get, Module, Post, Query, Req } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsEmail, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { Request } from 'express';
import { DataSource } from 'typeorm';
import { Public } from '../../src/common/decorators/public.decorator';
import { PageQuery, pageWindow, toPage } from '../../src/common/pagination/pagination';

class ProbeBody {
  @IsString()
  name: string;

  @IsOptional()
  @IsEmail()
  email?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10)
  level?: number;
}

/** Routes that exercise the HTTP conventions; mounted only in tests. */
@Controller('probe')
class ProbeController {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  @Public()
  @Post('echo')
  echo(@Body() body: ProbeBody): ProbeBody {
    return body;
  }

  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail');
  }

  @Public()
  @Get('db')
  async db(): Promise<{ now: string }> {
    const [row] = await this.ds.query('SELECT now()::text AS now');
    return row;
  }

  @Public()
  @Get('numbers')
  numbers(@Query() q: PageQuery, @Req() req: Request) {
    const all = Array.from({ length: 23 }, (_, i) => i + 1);
    const { offset, pageSize } = pageWindow(q);
    return toPage(req, q, all.slice(offset, offset + pageSize), all.length);
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
